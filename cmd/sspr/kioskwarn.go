package main

import (
	"context"
	"fmt"
	"io"
)

// warnNoAdmin tells the operator starting a kiosk that nobody will be able
// to leave it from the screen, when no administrator can sign in yet (the
// only way out besides SIGTERM), and how to make one. It never stops the
// kiosk: a counter may run one on purpose before its admin exists.
func warnNoAdmin(ctx context.Context, a *app, w io.Writer) error {
	r, err := a.svc.AdminReadiness(ctx)
	if err != nil {
		return err
	}
	if r.Ready > 0 {
		return nil
	}
	data := a.dataDir
	if r.Admins == 0 {
		fmt.Fprintln(w, "sspr kiosk: warning: this store has no administrator, so nobody can leave kiosk mode from the "+
			"screen; only SIGTERM stops it.")
		fmt.Fprintf(w, "  Create the first one:  sspr user add NAME --admin --data %s\n", data)
		fmt.Fprintln(w, "  It prints a temporary password. Then, on the kiosk, choose \"My security info\", sign in with "+
			"it, choose your own password and register two ways to prove it's you (administrators need two).")
		return nil
	}
	who := fmt.Sprintf("none of the %d administrators has", r.Admins)
	if r.Admins == 1 {
		who = "the only administrator does not have"
	}
	fmt.Fprintf(w, "sspr kiosk: warning: %s the two registered methods the admin sign-in needs, so nobody can "+
		"leave kiosk mode from the screen; only SIGTERM stops it.\n", who)
	fmt.Fprintln(w, "  On the kiosk, an administrator chooses \"My security info\", signs in with their password and "+
		"registers two ways to prove it's them.")
	return nil
}
