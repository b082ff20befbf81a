package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// ldapEnv is the environment of an sspr whose directory is srv, binding with
// password.
func ldapEnv(srv *slapdtest.Server, password string) []string {
	return cleanEnv("SSPR_LDAP_URL="+srv.URL, "SSPR_LDAP_START_TLS=true", "SSPR_LDAP_CA_FILE="+srv.CAFile,
		"SSPR_LDAP_BIND_DN="+slapdtest.ServiceDN, "SSPR_LDAP_BIND_PASSWORD="+password,
		"SSPR_LDAP_BASE_DN="+slapdtest.PeopleDN, "SSPR_LDAP_ATTR_DISPLAY_NAME=displayName")
}

// TestStartRefusedOnWrongBindPassword: serve and kiosk bind as the service
// account once at start; a wrong password stops them with one line naming
// the bind DN and the cause, never the password, at the cost of one failed
// bind each. The right password starts the portal.
func TestStartRefusedOnWrongBindPassword(t *testing.T) {
	srv := slapdtest.Start(t)
	const wrong = "not-the-service-password-93"
	want := "sspr: ldap: the service account could not bind as " + slapdtest.ServiceDN +
		": the directory says the DN or the password is wrong\n"
	for i, args := range [][]string{
		{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", freePort(t))},
		{"kiosk"},
	} {
		data := filepath.Join(t.TempDir(), "d")
		r := runEnv(t, ldapEnv(srv, wrong), "", append([]string{"--data", data}, args...)...)
		if r.code == 0 || r.stdout != "" || r.stderr != want {
			t.Errorf("want exit non-zero, nothing on stdout and %q on stderr:\n%s", want, r)
		}
		if strings.Contains(r.stderr, wrong) {
			t.Errorf("the error holds the bind password:\n%s", r)
		}
		failed, err := srv.Values(slapdtest.ServiceDN, "pwdFailureTime")
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) != i+1 {
			t.Errorf("after %s: %d failed binds; want %d", args[0], len(failed), i+1)
		}
	}

	startPortalProcess(t, ldapEnv(srv, slapdtest.ServicePassword), "serve", "--data", filepath.Join(t.TempDir(), "d")).stop(t)
}
