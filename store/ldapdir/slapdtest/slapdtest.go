// Package slapdtest starts a throwaway OpenLDAP slapd for integration tests:
// a temporary configuration (slapd.conf), an mdb database in a temporary
// folder seeded with slapadd, the ppolicy overlay with a default policy that
// keeps a password history, the memberof overlay, and a TLS certificate from
// a CA made for the run. It listens on random loopback ports for ldap:// and
// ldaps://.
//
// It lives outside the test files because both store/ldapdir and flows use
// it; nothing but tests should import it.
package slapdtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Where Debian's slapd package puts things.
const (
	SlapdPath  = "/usr/sbin/slapd"
	SlapaddDir = "/usr/sbin"
	ModulePath = "/usr/lib/ldap"
	SchemaDir  = "/etc/ldap/schema"
)

// RequireEnv makes a missing slapd a test failure instead of a skip.
const RequireEnv = "SSPR_REQUIRE_INTEGRATION"

// ErrNotInstalled means slapd or its modules are not on this machine.
var ErrNotInstalled = errors.New("slapd is not installed (apt-get install slapd ldap-utils)")

// The fixture every server is seeded with.
const (
	Suffix          = "dc=example,dc=org"
	AdminDN         = "cn=admin," + Suffix
	AdminPassword   = "admin-secret-ZX81"
	ServiceDN       = "cn=sspr,ou=services," + Suffix
	ServicePassword = "service-secret-QL42"
	PeopleDN        = "ou=people," + Suffix
	GroupsDN        = "ou=groups," + Suffix
	DefaultPolicyDN = "cn=default,ou=policies," + Suffix
	// HistoryLength is pwdInHistory of the default policy.
	HistoryLength = 5
	// MinLength is pwdMinLength of the default policy, in bytes.
	MinLength = 8
	// MaxFailure is pwdMaxFailure of the default policy.
	MaxFailure = 3
)

// SSHKey is the SSH public key the fixture's nina holds in sshPublicKey
// (openssh-lpk), beside a 1024-bit RSA key and a value that is no key at
// all, which sspr must ignore.
const SSHKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGsTOwk6uVNkPfvR+bBHOYlTKvzRlEvgbORqvxqA7Vkn nina@laptop"

// WeakSSHKey is a 1024-bit RSA key nina also holds, too weak to count.
const WeakSSHKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCeyZXofQWFfK1LViOiSzpgJFQ9oZ+cU0zNFO0rgnUzoGTUH9fbUxanjVZY" +
	"S7UQP0xSrV4WRF3vHdq8d5knN+qMYiKVXDTlaqJgFKpCMbI/Sjq1DeeCg1GDzkXWGnXpOHwb7CwXg/l5szRTicoRfKyuGOqA9xvbkqb1ScQU8eYaQQ== old"

//go:embed openssh-lpk.schema
var opensshLPKSchema []byte

// User is a person in the fixture.
type User struct {
	UID, CN, Mail, Mobile, Password string
	// Classes are object classes the entry has beside inetOrgPerson
	// (slapadd wants an entry's object classes together).
	Classes []string
	// Extra holds more LDIF lines for the entry.
	Extra []string
}

// DN returns the user's entry name.
func (u User) DN() string { return "uid=" + u.UID + "," + PeopleDN }

// Users are the people in the fixture, by uid. Every test that changes a
// password should use a user no other test in the package changes.
var Users = map[string]User{
	"alice": {UID: "alice", CN: "Alice Liddell", Mail: "alice@example.org", Mobile: "+15550100001", Password: "alice-Initial-pw1"},
	"bob":   {UID: "bob", CN: "Bob Builder", Mail: "bob@example.org", Mobile: "+15550100002", Password: "bob-Initial-pw1"},
	"carol": {UID: "carol", CN: "Carol Danvers", Mail: "carol@example.org", Password: "carol-Initial-pw1"},
	"dave": {UID: "dave", CN: "Dave Locked", Mail: "dave@example.org", Password: "dave-Initial-pw1",
		Extra: []string{"pwdAccountLockedTime: 000001010000Z"}},
	"erin": {UID: "erin", CN: "Erin Expired", Mail: "erin@example.org", Password: "erin-Initial-pw1",
		Extra: []string{"pwdPolicySubentry: cn=expiring,ou=policies," + Suffix, "pwdChangedTime: 20200101000000Z"}},
	"yuri": {UID: "yuri", CN: "Yuri Young", Mail: "yuri@example.org", Password: "yuri-Initial-pw1",
		Extra: []string{"pwdPolicySubentry: cn=young,ou=policies," + Suffix}},
	"frank": {UID: "frank", CN: "Frank Fixture", Mail: "frank@example.org", Password: "frank-Initial-pw1"},
	"grace": {UID: "grace", CN: "Grace Hopper", Mail: "grace@example.org", Password: "grace-Initial-pw1"},
	"heidi": {UID: "heidi", CN: "Heidi Klum", Mail: "heidi@example.org", Password: "heidi-Initial-pw1"},
	"ivan":  {UID: "ivan", CN: "Ivan Ivanov", Mail: "ivan@example.org", Password: "ivan-Initial-pw1"},
	"judy":  {UID: "judy", CN: "Judy Hopps", Mail: "judy@example.org", Password: "judy-Initial-pw1"},
	"kim":   {UID: "kim", CN: "Kim Wexler", Mail: "kim@example.org", Mobile: "+15550100011", Password: "kim-Initial-pw1"},
	"leo":   {UID: "leo", CN: "Leo Tolstoy", Mail: "leo@example.org", Mobile: "+15550100012", Password: "leo-Initial-pw1"},
	"nina": {UID: "nina", CN: "Nina Keys", Mail: "nina@example.org", Password: "nina-Initial-pw1",
		Classes: []string{"ldapPublicKey"}, Extra: []string{"sshPublicKey: " + SSHKey, "sshPublicKey: " + WeakSSHKey,
			"sshPublicKey: not a key"}},
}

// Groups are groupOfNames entries under GroupsDN: name → member uids.
var Groups = map[string][]string{
	"sspr-users": {"alice", "bob", "frank", "kim", "leo"},
	"staff":      {"carol"},
}

// Server is a running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:port (StartTLS is offered).
	URL string
	// LDAPSURL is ldaps://127.0.0.1:port.
	LDAPSURL string
	// CAFile is the PEM file of the CA that signed the server's certificate
	// (for 127.0.0.1 and localhost).
	CAFile string

	dir    string
	cmd    *exec.Cmd
	done   chan struct{}
	stderr *lockedBuffer

	stopOnce sync.Once
}

// Start starts a server for t and stops it when t ends. It skips t when slapd
// is missing, unless SSPR_REQUIRE_INTEGRATION=1, when it fails t.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New()
	if errors.Is(err, ErrNotInstalled) && os.Getenv(RequireEnv) != "1" {
		t.Skipf("%v; set %s=1 to make this a failure", err, RequireEnv)
	}
	if err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// New starts a server; the caller must call Stop.
func New() (*Server, error) {
	for _, p := range []string{SlapdPath, filepath.Join(SlapaddDir, "slapadd"),
		filepath.Join(ModulePath, "back_mdb.la"), filepath.Join(ModulePath, "ppolicy.la"),
		filepath.Join(ModulePath, "memberof.la"), filepath.Join(SchemaDir, "inetorgperson.schema")} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w: %s is missing", ErrNotInstalled, p)
		}
	}
	dir, err := os.MkdirTemp("", "sspr-slapd-*")
	if err != nil {
		return nil, err
	}
	s, err := start(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func start(dir string) (*Server, error) {
	if err := writeCerts(dir); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "openssh-lpk.schema"), opensshLPKSchema, 0o600); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(slapdConf(dir)), 0o600); err != nil {
		return nil, err
	}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, err
	}
	ldif := filepath.Join(dir, "seed.ldif")
	if err := os.WriteFile(ldif, []byte(seedLDIF()), 0o600); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(SlapaddDir, "slapadd"), "-q", "-f", conf, "-l", ldif).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("slapadd: %v: %s", err, strings.TrimSpace(string(out)))
	}
	// A port picked by listening on :0 can be taken by someone else before
	// slapd binds it; try a few times.
	var lastErr error
	for range 5 {
		s, err := launch(dir, conf)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launch(dir, conf string) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL:      fmt.Sprintf("ldap://127.0.0.1:%d", ports[0]),
		LDAPSURL: fmt.Sprintf("ldaps://127.0.0.1:%d", ports[1]),
		CAFile:   filepath.Join(dir, "ca.pem"),
		dir:      dir,
		done:     make(chan struct{}),
		stderr:   &lockedBuffer{},
	}
	// -d 0 keeps slapd in the foreground, so it is our child to stop.
	s.cmd = exec.Command(SlapdPath, "-f", conf, "-h", s.URL+"/ "+s.LDAPSURL+"/", "-d", "0")
	s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
	s.cmd.SysProcAttr = sysProcAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start slapd: %w", err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("slapd exited at start: %s", strings.TrimSpace(s.stderr.String()))
		default:
		}
		if up(ports[0]) && up(ports[1]) {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("slapd did not listen within 15s: %s", strings.TrimSpace(s.stderr.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func up(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Stop stops slapd and removes its folder. It is safe to call twice.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.kill()
		_ = os.RemoveAll(s.dir)
	})
}

// Values reads the values of one attribute of an entry as the rootdn,
// operational attributes included: ppolicy's pwdFailureTime holds one value
// per failed bind, pwdAccountLockedTime is set once an account is locked.
func (s *Server) Values(dn, attr string) ([]string, error) {
	conn, err := ldap.DialURL(s.URL)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.Bind(AdminDN, AdminPassword); err != nil {
		return nil, err
	}
	res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 10, false,
		"(objectClass=*)", []string{attr}, nil))
	if err != nil {
		return nil, err
	}
	if len(res.Entries) != 1 {
		return nil, fmt.Errorf("%s: %d entries", dn, len(res.Entries))
	}
	return res.Entries[0].GetAttributeValues(attr), nil
}

// Down stops slapd but keeps its folder, as a server that went away.
func (s *Server) Down() { s.kill() }

func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

// String describes the value for people.
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func slapdConf(dir string) string {
	return fmt.Sprintf(`include %[2]s/core.schema
include %[2]s/cosine.schema
include %[2]s/inetorgperson.schema
include %[1]s/openssh-lpk.schema
modulepath %[3]s
moduleload back_mdb
moduleload ppolicy
moduleload memberof
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
TLSCACertificateFile %[1]s/ca.pem
TLSCertificateFile %[1]s/server.pem
TLSCertificateKeyFile %[1]s/server.key

database mdb
maxsize 16777216
suffix "%[4]s"
rootdn "%[5]s"
rootpw %[6]s
directory %[1]s/db
index objectClass eq
index uid,cn,member eq

overlay memberof
overlay ppolicy
ppolicy_default "%[7]s"
ppolicy_use_lockout
ppolicy_hash_cleartext

access to attrs=userPassword
	by dn.exact="%[8]s" write
	by self write
	by anonymous auth
	by * none
access to attrs=pwdReset,pwdAccountLockedTime
	by dn.exact="%[8]s" write
	by * read
access to *
	by dn.exact="%[8]s" read
	by self read
	by users read
	by * none
`, dir, SchemaDir, ModulePath, Suffix, AdminDN, AdminPassword, DefaultPolicyDN, ServiceDN)
}

// ssha hashes a password the way slappasswd does.
func ssha(pw string) string {
	salt := make([]byte, 8)
	_, _ = rand.Read(salt)
	h := sha1.New()
	h.Write([]byte(pw))
	h.Write(salt)
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h.Sum(nil), salt...))
}

func seedLDIF() string {
	var b strings.Builder
	entry := func(lines ...string) {
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	entry("dn: "+Suffix, "objectClass: top", "objectClass: dcObject", "objectClass: organization",
		"dc: example", "o: Example")
	for _, ou := range []string{"people", "groups", "services", "policies"} {
		entry("dn: ou="+ou+","+Suffix, "objectClass: organizationalUnit", "ou: "+ou)
	}
	entry("dn: "+ServiceDN, "objectClass: organizationalRole", "objectClass: simpleSecurityObject",
		"cn: sspr", "userPassword: "+ssha(ServicePassword))
	policy := func(name string, extra ...string) {
		lines := []string{"dn: cn=" + name + ",ou=policies," + Suffix, "objectClass: device", "objectClass: pwdPolicy",
			"cn: " + name, "pwdAttribute: userPassword",
			fmt.Sprintf("pwdInHistory: %d", HistoryLength), "pwdCheckQuality: 1",
			fmt.Sprintf("pwdMinLength: %d", MinLength), "pwdLockout: TRUE",
			fmt.Sprintf("pwdMaxFailure: %d", MaxFailure), "pwdLockoutDuration: 0",
			"pwdMustChange: TRUE", "pwdAllowUserChange: TRUE", "pwdSafeModify: FALSE"}
		entry(append(lines, extra...)...)
	}
	policy("default")
	policy("young", "pwdMinAge: 3600")
	policy("expiring", "pwdMaxAge: 86400", "pwdGraceAuthnLimit: 0")
	for _, uid := range sortedKeys(Users) {
		u := Users[uid]
		lines := []string{"dn: " + u.DN(), "objectClass: inetOrgPerson"}
		for _, c := range u.Classes {
			lines = append(lines, "objectClass: "+c)
		}
		lines = append(lines, "uid: "+u.UID, "cn: "+u.CN,
			"sn: "+u.CN[strings.LastIndex(u.CN, " ")+1:], "displayName: "+u.CN, "mail: "+u.Mail,
			"userPassword: "+ssha(u.Password))
		if u.Mobile != "" {
			lines = append(lines, "mobile: "+u.Mobile)
		}
		entry(append(lines, u.Extra...)...)
	}
	for _, name := range sortedKeys(Groups) {
		lines := []string{"dn: cn=" + name + "," + GroupsDN, "objectClass: groupOfNames", "cn: " + name}
		for _, uid := range Groups[name] {
			lines = append(lines, "member: "+Users[uid].DN())
		}
		entry(lines...)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// writeCerts makes a CA and a server certificate for 127.0.0.1 and
// localhost, valid for a day.
func writeCerts(dir string) error {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sspr test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"ca.pem":     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		"server.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"server.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			return err
		}
	}
	return nil
}
