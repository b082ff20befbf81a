package main

import "github.com/spf13/cobra"

// runCommands returns the commands that run the TUI: kiosk, serve and demo.
func runCommands(opts *rootOptions) []*cobra.Command {
	return nil
}
