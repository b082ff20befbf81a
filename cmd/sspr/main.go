// Command sspr is a self-service password reset system with a terminal UI:
// a kiosk at the helpdesk counter, an SSH portal, a demo, and the admin CLI.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"charm.land/fang/v2"
	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/flows"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

func main() {
	root := newRoot()
	if err := fang.Execute(context.Background(), root,
		fang.WithVersion(Version),
		fang.WithErrorHandler(printError),
		fang.WithNotifySignal(os.Interrupt, syscall.SIGTERM),
	); err != nil {
		os.Exit(1)
	}
}

// printError prints one line: the reason, without the sentinel words the
// flows add for callers that test errors.
func printError(w io.Writer, _ fang.Styles, err error) {
	_, _ = fmt.Fprintln(w, "sspr: "+describe(err))
}

// describe turns an error chain into one sentence for people.
func describe(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{flows.ErrInvalid, flows.ErrNotFound, flows.ErrExists} {
		msg = strings.ReplaceAll(msg, ": "+sentinel.Error(), "")
	}
	msg = strings.ReplaceAll(msg, "\n", " ")
	// cobra counts arguments as "1 arg(s)", for every command, new ones too.
	msg = argCount.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(strings.Fields(m)[0])
		return flows.Count(n, "argument", "arguments")
	})
	if errors.Is(err, flows.ErrNotFound) && !strings.Contains(msg, "not") {
		msg += ": not found"
	}
	if errors.Is(err, flows.ErrExists) && !strings.Contains(msg, "already") {
		msg += ": already exists"
	}
	return msg
}

// argCount finds cobra's "1 arg(s)" in its refusals of arguments.
var argCount = regexp.MustCompile(`\b\d+ arg\(s\)`)

func newRoot() *cobra.Command {
	opts := &rootOptions{}
	root := &cobra.Command{
		Use:   "sspr",
		Short: "Self-service password reset in the terminal",
		Long: "sspr lets people who forgot their password prove who they are with methods they registered " +
			"earlier and set a new one, at a kiosk or over SSH, without calling the helpdesk.",
	}
	root.PersistentFlags().StringVar(&opts.dataDir, "data", "", "data folder (default $SSPR_DATA_PATH or ./sspr-data)")
	root.AddCommand(
		newUserCmd(opts), newGroupCmd(opts), newPolicyCmd(opts), newReportCmd(opts), newAuditCmd(opts),
		newVersionCmd(), newDeliverCmd(opts), newDirectoryCmd(opts), newBlockCmd(opts), newStoreCmd(opts),
		newWebhookCmd(opts),
	)
	for _, c := range runCommands(opts) {
		root.AddCommand(c)
	}
	for _, c := range root.Commands() {
		refuseUnknownSubcommands(c)
	}
	return root
}

// refuseUnknownSubcommands gives every command that only groups others
// (user, group, policy …) an action: cobra checks unknown commands only at
// the root, so `sspr user frob` would print the help and exit 0.
func refuseUnknownSubcommands(c *cobra.Command) {
	if c.Runnable() || !c.HasSubCommands() {
		return
	}
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		return fmt.Errorf("unknown command %q for %q", args[0], c.CommandPath())
	}
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "sspr "+Version)
			return err
		},
	}
}
