package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/store/ldapdir"
)

func newDirectoryCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "directory", Short: "Check the LDAP directory configuration"}
	var format string
	test := &cobra.Command{
		Use:   "test [USERNAME]",
		Short: "Connect, bind as the service account, search, and show what the directory holds for a user",
		Long: "Checks the ldap section of the configuration one step at a time: connect (and encrypt), " +
			"read what the server supports, bind as the service account, read the base DNs, and, given a " +
			"username, look the user up with their groups. It never writes and never binds as the user.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("format %q: use table or json", format)
			}
			abs, err := filepath.Abs(opts.resolveDataDir())
			if err != nil {
				return fmt.Errorf("data folder: %w", err)
			}
			cfg, err := config.Load(abs, os.Environ())
			if err != nil {
				return err
			}
			if cfg.LDAP.URL == "" {
				return errors.New("ldap.url is not set: passwords are kept in sspr's own store")
			}
			client, err := ldapClient(cfg, clock.Real{})
			if err != nil {
				return err
			}
			defer client.Close()
			username := ""
			if len(args) == 1 {
				username = strings.TrimSpace(args[0])
			}
			d := client.Diagnose(c.Context(), username)
			if format == "json" {
				err = writeJSON(c.OutOrStdout(), diagnosisJSON(d))
			} else {
				err = printDiagnosis(c, d)
			}
			if err != nil {
				return err
			}
			if !d.OK() {
				last := d.Steps[len(d.Steps)-1]
				return fmt.Errorf("directory test failed at %s: %s", last.Name, directoryErrLine(last.Err))
			}
			return nil
		},
	}
	test.Flags().StringVar(&format, "format", "table", "table or json")
	cmd.AddCommand(test)
	return cmd
}

func directoryErrLine(err error) string {
	if err == nil {
		return "failed"
	}
	return safe(strings.Join(strings.Fields(err.Error()), " "))
}

func printDiagnosis(c *cobra.Command, d ldapdir.Diagnosis) error {
	tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
	for _, s := range d.Steps {
		mark, detail := "ok", s.Detail
		switch {
		case !s.OK:
			mark = "FAIL"
			if s.Err != nil {
				detail = strings.TrimSpace(detail + " — " + directoryErrLine(s.Err))
			}
		case s.Warn:
			mark = "warn"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", mark, s.Name, safe(detail))
	}
	if e := d.Entry; e != nil {
		fmt.Fprintln(tw)
		for _, row := range [][2]string{
			{"username", e.Username}, {"dn", e.DN}, {"display name", e.DisplayName}, {"mail", e.Mail},
			{"mobile", e.Mobile}, {"groups", strings.Join(e.Groups, ", ")},
			{"disabled", yesNo(e.Disabled)}, {"locked", yesNo(e.Locked)},
		} {
			fmt.Fprintf(tw, "%s\t%s\n", row[0], safe(row[1]))
		}
	}
	return tw.Flush()
}

type stepJSON struct {
	Step   string `json:"step"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
}

type userJSON struct {
	Username    string   `json:"username"`
	DN          string   `json:"dn"`
	DisplayName string   `json:"display_name"`
	Mail        string   `json:"mail"`
	Mobile      string   `json:"mobile"`
	Groups      []string `json:"groups"`
	Disabled    bool     `json:"disabled"`
	Locked      bool     `json:"locked"`
}

func diagnosisJSON(d ldapdir.Diagnosis) any {
	out := struct {
		OK    bool       `json:"ok"`
		Steps []stepJSON `json:"steps"`
		User  *userJSON  `json:"user,omitempty"`
	}{OK: d.OK(), Steps: []stepJSON{}}
	for _, s := range d.Steps {
		st := stepJSON{Step: s.Name, Status: "ok", Detail: s.Detail}
		switch {
		case !s.OK:
			st.Status = "fail"
			if s.Err != nil {
				st.Error = s.Err.Error()
			}
		case s.Warn:
			st.Status = "warn"
		}
		out.Steps = append(out.Steps, st)
	}
	if e := d.Entry; e != nil {
		out.User = &userJSON{Username: e.Username, DN: e.DN, DisplayName: e.DisplayName, Mail: e.Mail,
			Mobile: e.Mobile, Groups: nonNil(e.Groups), Disabled: e.Disabled, Locked: e.Locked}
	}
	return out
}
