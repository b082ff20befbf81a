package main

import (
	"github.com/spf13/cobra"
)

// withApp opens the data folder, runs fn, and closes it again.
func withApp(c *cobra.Command, opts *rootOptions, fn func(a *app) error) error {
	a, err := opts.open(c.Context())
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}
