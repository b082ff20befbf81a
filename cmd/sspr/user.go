package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"charm.land/bubbles/v2/progress"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

func newUserCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}
	cmd.AddCommand(newUserAddCmd(opts), newUserImportCmd(opts), newUserListCmd(opts), newUserShowCmd(opts))
	simple := []struct {
		use, short string
		run        func(ctx context.Context, a *app, name string) (string, error)
	}{
		{"disable NAME", "Disable a user", func(ctx context.Context, a *app, n string) (string, error) {
			return "disabled " + n, a.svc.SetDisabled(ctx, cliActor(), n, true)
		}},
		{"enable NAME", "Enable a user", func(ctx context.Context, a *app, n string) (string, error) {
			return "enabled " + n, a.svc.SetDisabled(ctx, cliActor(), n, false)
		}},
		{"unlock NAME", "Unlock an account where its password lives (sspr or the directory), and clear its block and failed attempts",
			func(ctx context.Context, a *app, n string) (string, error) {
				out, err := a.svc.Unlock(ctx, cliActor(), n)
				if err != nil || out.Unlocked || out.BlockCleared {
					return "unlocked " + n, err
				}
				return n + " was neither locked out nor blocked; cleared its failed attempts", nil
			}},
		{"set-admin NAME", "Make a user an administrator", func(ctx context.Context, a *app, n string) (string, error) {
			return n + " is now an administrator", a.svc.SetAdmin(ctx, cliActor(), n, true)
		}},
		{"unset-admin NAME", "Make an administrator an ordinary user", func(ctx context.Context, a *app, n string) (string, error) {
			return n + " is no longer an administrator", a.svc.SetAdmin(ctx, cliActor(), n, false)
		}},
		{"require-registration NAME", "Remove a user's registered methods so they register them again", func(ctx context.Context, a *app, n string) (string, error) {
			return "removed the methods " + n + " registered; " + n + " must register again at next sign-in",
				a.svc.RequireReregistration(ctx, cliActor(), n)
		}},
	}
	for _, s := range simple {
		cmd.AddCommand(&cobra.Command{
			Use: s.use, Short: s.short, Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				return withApp(c, opts, func(a *app) error {
					msg, err := s.run(c.Context(), a, args[0])
					if err != nil {
						return err
					}
					fmt.Fprintln(c.ErrOrStderr(), msg)
					return nil
				})
			},
		})
	}
	cmd.AddCommand(&cobra.Command{
		Use: "voucher NAME", Short: "Issue a one-time helpdesk voucher for a user", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withApp(c, opts, func(a *app) error {
				v, err := a.svc.IssueVoucher(c.Context(), cliActor(), args[0])
				if err != nil {
					return err
				}
				fmt.Fprintln(c.OutOrStdout(), v.Code)
				fmt.Fprintf(c.ErrOrStderr(), "voucher for %s, valid until %s; it works once; read it to the caller once, group by group:\n",
					flows.NormaliseUsername(args[0]), v.ExpiresAt.Local().Format(time.DateTime))
				groups, spoken := v.ReadOut()
				for i, g := range groups {
					fmt.Fprintf(c.ErrOrStderr(), "  %s  %s\n", g, spoken[i])
				}
				return nil
			})
		},
	})
	return cmd
}

func newUserAddCmd(opts *rootOptions) *cobra.Command {
	var n flows.NewUser
	var passwordStdin bool
	var groups string
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a user (prints a temporary password unless --password-stdin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			n.Username = args[0]
			if groups != "" {
				n.Groups = strings.Split(groups, ",")
			}
			if passwordStdin {
				pw, err := readPassword(c.InOrStdin())
				if err != nil {
					return err
				}
				n.Password = pw
			}
			return withApp(c, opts, func(a *app) error {
				temp, err := a.svc.AddUser(c.Context(), cliActor(), n)
				if err != nil {
					return err
				}
				if temp != "" {
					fmt.Fprintln(c.OutOrStdout(), temp)
					fmt.Fprintf(c.ErrOrStderr(), "added %s; the temporary password above must be changed at first use\n",
						flows.NormaliseUsername(n.Username))
					return nil
				}
				fmt.Fprintf(c.ErrOrStderr(), "added %s\n", flows.NormaliseUsername(n.Username))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&n.DisplayName, "display-name", "", "full name shown to the user")
	cmd.Flags().StringVar(&n.Email, "email", "", "email address from the directory")
	cmd.Flags().StringVar(&n.Phone, "phone", "", "mobile number in E.164 form (+15551234567)")
	cmd.Flags().BoolVar(&n.Admin, "admin", false, "make the user an administrator")
	cmd.Flags().StringVar(&groups, "groups", "", "comma-separated groups to join")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	return cmd
}

// readPassword reads one line, refusing more than a password can be.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("read password: standard input is empty")
	}
	return pw, nil
}

func newUserImportCmd(opts *rootOptions) *cobra.Command {
	var skipInvalid bool
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import users from CSV (username,display_name,email,phone,groups,admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			defer f.Close()
			return withApp(c, opts, func(a *app) error {
				bar := newProgressBar(c.ErrOrStderr(), f)
				res, err := a.svc.ImportUsers(c.Context(), cliActor(), f, flows.ImportOptions{
					SkipInvalid: skipInvalid, Progress: bar.update})
				bar.finish()
				var bad *flows.ImportRowsError
				if errors.As(err, &bad) && bad.Count() > 1 {
					for _, row := range bad.Rows {
						fmt.Fprintln(c.ErrOrStderr(), safe(row))
					}
					if bad.More > 0 {
						fmt.Fprintf(c.ErrOrStderr(), "… and %d more\n", bad.More)
					}
					return fmt.Errorf("import: %d bad rows (listed above); nothing was imported: fix them, or import the good rows with --skip-invalid", bad.Count())
				}
				if err != nil {
					return err
				}
				for _, s := range res.Skipped {
					fmt.Fprintln(c.ErrOrStderr(), "skipped "+s)
				}
				fmt.Fprintf(c.ErrOrStderr(), "imported %s", flows.Count(res.Imported, "user", "users"))
				if len(res.Skipped) > 0 {
					fmt.Fprintf(c.ErrOrStderr(), ", skipped %d", len(res.Skipped))
				}
				fmt.Fprintln(c.ErrOrStderr())
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "import the good rows and list the bad ones")
	return cmd
}

// progressBar draws import progress on a terminal and stays silent otherwise.
type progressBar struct {
	w     io.Writer
	on    bool
	total int
	bar   progress.Model
	last  time.Time
}

func newProgressBar(w io.Writer, input *os.File) *progressBar {
	p := &progressBar{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.on = true
		p.bar = progress.New(progress.WithWidth(40))
		// Estimate rows from the file size so the bar has a scale before parsing ends.
		if st, err := input.Stat(); err == nil {
			p.total = int(st.Size()/60) + 1
		}
	}
	return p
}

func (p *progressBar) update(done int) {
	if !p.on || time.Since(p.last) < 50*time.Millisecond {
		return
	}
	p.last = time.Now()
	if done > p.total {
		p.total = done
	}
	fmt.Fprintf(p.w, "\r%s %s", p.bar.ViewAs(float64(done)/float64(p.total)), flows.Count(done, "user", "users"))
}

func (p *progressBar) finish() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func newUserListCmd(opts *rootOptions) *cobra.Command {
	var format, search string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c, opts, func(a *app) error {
				users, err := allUsers(c.Context(), a.svc, search)
				if err != nil {
					return err
				}
				switch format {
				case "json":
					type row struct {
						Username    string   `json:"username"`
						DisplayName string   `json:"display_name"`
						Email       string   `json:"email"`
						Phone       string   `json:"phone"`
						Admin       bool     `json:"admin"`
						Disabled    bool     `json:"disabled"`
						States      []string `json:"states"`
					}
					out := make([]row, len(users))
					for i, u := range users {
						out[i] = row{u.Username, u.DisplayName, u.Email, u.Phone, u.Admin, u.Disabled, nonNil(u.States())}
					}
					return writeJSON(c.OutOrStdout(), out)
				case "table":
					tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "USERNAME\tDISPLAY NAME\tEMAIL\tPHONE\tSTATE")
					for _, u := range users {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", safe(u.Username), safe(u.DisplayName), safe(u.Email), safe(u.Phone),
							flows.StateLine(u.States()))
					}
					return tw.Flush()
				}
				return fmt.Errorf("format %q: use table or json", format)
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	cmd.Flags().StringVar(&search, "search", "", "only users whose name or email contains this")
	return cmd
}

// allUsers reads every user a search matches, a page at a time, in the
// admin panel's terms.
func allUsers(ctx context.Context, svc *flows.Service, search string) ([]flows.UserRow, error) {
	var users []flows.UserRow
	q := flows.UserQuery{Search: search, Limit: 500}
	for {
		page, err := svc.ListUserPage(ctx, q)
		if err != nil {
			return nil, err
		}
		users = append(users, page.Users...)
		if !page.HasNext || len(page.Users) == 0 {
			return users, nil
		}
		q.After = page.Users[len(page.Users)-1].Username
	}
}

func newUserShowCmd(opts *rootOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show one user",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withApp(c, opts, func(a *app) error {
				d, err := a.svc.ShowUser(c.Context(), args[0])
				if err != nil {
					return err
				}
				if format == "json" {
					return writeJSON(c.OutOrStdout(), map[string]any{
						"username": d.Username, "display_name": d.DisplayName, "email": d.Email, "phone": d.Phone,
						"admin": d.Admin, "disabled": d.Disabled, "temporary_password": d.TemporaryPassword,
						"groups": nonNil(d.Groups), "methods": nonNil(d.Methods), "enabled_for_sspr": d.EnabledForSSPR,
						"able_to_reset": d.CanReset, "blocked": d.Blocked, "registration_due": d.RegistrationDue,
						"locked_out": !d.LockedUntil.IsZero(),
					})
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintf(tw, "username\t%s\n", d.Username)
				fmt.Fprintf(tw, "display name\t%s\n", safe(d.DisplayName))
				fmt.Fprintf(tw, "email\t%s\n", safe(d.Email))
				fmt.Fprintf(tw, "phone\t%s\n", d.Phone)
				fmt.Fprintf(tw, "state\t%s\n", flows.StateLine(d.States()))
				fmt.Fprintf(tw, "groups\t%s\n", strings.Join(d.Groups, ", "))
				fmt.Fprintf(tw, "methods\t%s\n", strings.Join(d.Methods, ", "))
				fmt.Fprintf(tw, "enabled for sspr\t%s\n", yesNo(d.EnabledForSSPR))
				fmt.Fprintf(tw, "able to reset\t%s\n", yesNo(d.CanReset))
				fmt.Fprintf(tw, "registration due\t%s\n", yesNo(d.RegistrationDue))
				blocked := "no"
				if d.Blocked {
					blocked = "until " + d.BlockedUntil.Local().Format(time.DateTime)
				}
				fmt.Fprintf(tw, "blocked\t%s\n", blocked)
				if !d.LockedUntil.IsZero() {
					fmt.Fprintf(tw, "locked out\tuntil %s\n", d.LockedUntil.Local().Format(time.DateTime))
				}
				if !d.LastConfirmed.IsZero() {
					fmt.Fprintf(tw, "last confirmed\t%s\n", d.LastConfirmed.Local().Format(time.DateTime))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// safe makes stored text fit to print in a table: the TUI's sanitiser, so
// an escape sequence in a display name cannot steer the admin's terminal.
func safe(s string) string { return sanitize.String(s) }
