package ldapdir

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// TestPasswordExpiryOpenLDAP reads expiry from a real slapd with ppolicy:
// nora's pwdChangedTime plus pwdMaxAge of her own policy; erin's one-day
// policy; alice, under the default policy without a maximum age, never
// expires, named as the default or not.
func TestPasswordExpiryOpenLDAP(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv, func(cfg *Config) { cfg.PasswordPolicyDN = slapdtest.DefaultPolicyDN })
	ctx := context.Background()
	changed := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

	ex, err := c.PasswordExpiry(ctx, "nora")
	if err != nil {
		t.Fatal(err)
	}
	if !ex.ChangedAt.Equal(changed) || !ex.ExpiresAt.Equal(changed.Add(slapdtest.NinetyDays*time.Second)) {
		t.Errorf("nora: changed %v, expires %v; want %v and 90 days later", ex.ChangedAt, ex.ExpiresAt, changed)
	}
	ex, err = c.PasswordExpiry(ctx, "erin")
	if err != nil {
		t.Fatal(err)
	}
	if !ex.ExpiresAt.Equal(changed.Add(24 * time.Hour)) {
		t.Errorf("erin expires %v; want a day after %v", ex.ExpiresAt, changed)
	}
	ex, err = c.PasswordExpiry(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !ex.ExpiresAt.IsZero() || ex.ChangedAt.IsZero() {
		t.Errorf("alice: changed %v, expires %v; want a change time (from createTimestamp) and no expiry",
			ex.ChangedAt, ex.ExpiresAt)
	}
	if _, err := c.PasswordExpiry(ctx, "nobody"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("nobody: %v; want ErrNoSuchUser", err)
	}
}

// TestPasswordExpiryActiveDirectory reads the expiry the way Active
// Directory gives it, from a server that answers as AD does: the
// constructed msDS-UserPasswordExpiryTimeComputed, asked for by name, and
// pwdLastSet, both FILETIMEs; "never" is the largest value.
func TestPasswordExpiryActiveDirectory(t *testing.T) {
	changed := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	expires := changed.Add(42 * 24 * time.Hour)
	ad := startFakeAD(t, map[string]map[string]string{
		"CN=Ann,OU=People,DC=corp,DC=example": {attrADExpiry: FileTime(expires), attrADPwdLastSet: FileTime(changed)},
	})
	c, err := New(Config{URL: ad.url, RootCAs: ad.roots, BindDN: "CN=sspr,DC=corp,DC=example", BindPassword: "pw",
		BaseDN: "DC=corp,DC=example", UserFilter: "(sAMAccountName=%s)", WriteMode: WriteAD, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ex, err := c.PasswordExpiry(context.Background(), "ann")
	if err != nil {
		t.Fatal(err)
	}
	if !ex.ExpiresAt.Equal(expires) || !ex.ChangedAt.Equal(changed) {
		t.Errorf("expiry %v changed %v; want %v and %v", ex.ExpiresAt, ex.ChangedAt, expires, changed)
	}
	if got := ad.requested(); !slices.Equal(got, []string{attrADExpiry, attrADPwdLastSet}) {
		t.Errorf("attributes asked for: %v", got)
	}

	ad.set("CN=Ann,OU=People,DC=corp,DC=example", map[string]string{attrADExpiry: "9223372036854775807",
		attrADPwdLastSet: FileTime(changed)})
	ex, err = c.PasswordExpiry(context.Background(), "ann")
	if err != nil || !ex.ExpiresAt.IsZero() {
		t.Errorf("never-expiring password: %v, %v; want no expiry", ex.ExpiresAt, err)
	}
}

func TestFileTime(t *testing.T) {
	// 2021-01-01 00:00 UTC, as AD tools show it.
	got, err := ParseFileTime("132539328000000000")
	if err != nil || !got.Equal(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParseFileTime = %v, %v", got, err)
	}
	for _, s := range []string{"0", "9223372036854775807"} {
		if got, err := ParseFileTime(s); err != nil || !got.IsZero() {
			t.Errorf("ParseFileTime(%s) = %v, %v; want the zero time", s, got, err)
		}
	}
	for _, s := range []string{"", "-1", "x", "9223372036854775808"} {
		if _, err := ParseFileTime(s); err == nil {
			t.Errorf("ParseFileTime(%q) took it", s)
		}
	}
}

// FuzzParseFileTime: any text gives a time or an error, and a time written
// back with FileTime reads the same.
func FuzzParseFileTime(f *testing.F) {
	for _, s := range []string{"0", "132539328000000000", "9223372036854775807", "-5", " 12 ", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFileTime(s)
		if err != nil || got.IsZero() {
			return
		}
		again, err := ParseFileTime(FileTime(got))
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q: %v, written back %v (%v)", s, got, again, err)
		}
	})
}

// fakeAD is an LDAPS server that answers binds and searches the way
// Active Directory does for the attributes sspr reads: it returns only
// the attributes asked for by name, constructed ones included.
type fakeAD struct {
	url   string
	roots *x509.CertPool

	mu      sync.Mutex
	entries map[string]map[string]string
	asked   []string
}

func (f *fakeAD) requested() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

func (f *fakeAD) set(dn string, attrs map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries[dn] = attrs
}

func startFakeAD(t *testing.T, entries map[string]map[string]string) *fakeAD {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dc.corp.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der},
		PrivateKey: key}}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAD{url: "ldaps://" + l.Addr().String(), roots: roots, entries: entries}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { f.serve(conn) })
		}
	})
	return f
}

func (f *fakeAD) serve(conn net.Conn) {
	defer conn.Close()
	for {
		p, err := ber.ReadPacket(conn)
		if err != nil || len(p.Children) < 2 {
			return
		}
		id := p.Children[0].Value
		op := p.Children[1]
		switch op.Tag {
		case 0: // bind
			_, _ = conn.Write(envelope(id, result(1)).Bytes())
		case 2: // unbind
			return
		case 3: // search
			var attrs []string
			if len(op.Children) > 7 {
				for _, a := range op.Children[7].Children {
					attrs = append(attrs, a.Data.String())
				}
			}
			f.mu.Lock()
			f.asked = attrs
			for dn, values := range f.entries {
				e := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 4, nil, "entry")
				e.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "dn"))
				list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
				for _, a := range attrs {
					v, ok := values[a]
					if !ok {
						continue
					}
					pa := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
					pa.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "type"))
					set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "values")
					set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "value"))
					pa.AppendChild(set)
					list.AppendChild(pa)
				}
				e.AppendChild(list)
				_, _ = conn.Write(envelope(id, e).Bytes())
			}
			f.mu.Unlock()
			_, _ = conn.Write(envelope(id, result(5)).Bytes())
		default:
			return
		}
	}
}

// result is an LDAPResult saying success, under an application tag.
func result(tag ber.Tag) *ber.Packet {
	r := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "result")
	r.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, "resultCode"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "diagnostic"))
	return r
}

func envelope(id any, op *ber.Packet) *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "message")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "id"))
	p.AppendChild(op)
	return p
}
