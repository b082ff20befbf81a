package ldapdir

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// fakeAD is an LDAPS server that answers as Active Directory does for what
// sspr asks of it: a bind, a user search that finds one entry, and modify
// requests, which it records and answers with the result code a test sets.
// There is no Active Directory here; it stands in at unit level, so that
// the exact attribute writes can be asserted.
type fakeAD struct {
	t    *testing.T
	url  string
	pool *x509.CertPool

	mu sync.Mutex
	// entry is the one user: attribute → values; dn is its name.
	dn    string
	entry map[string][]string
	// refuse maps an attribute to the result code a modify of it gets.
	refuse map[string]uint16
	// writes records each modify: "DN: op attr=value,value".
	writes []string
}

// modOps names LDAP modify operations as AD's documentation does.
var modOps = map[int64]string{0: "add", 1: "delete", 2: "replace"}

func newFakeAD(t *testing.T, dn string, entry map[string][]string) *fakeAD {
	t.Helper()
	cert, pool := selfSigned(t)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAD{t: t, url: "ldaps://" + l.Addr().String(), pool: pool, dn: dn, entry: entry, refuse: map[string]uint16{}}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.serve(c)
			}()
		}
	}()
	return f
}

// client returns a client in ad mode for the fake.
func (f *fakeAD) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{URL: f.url, RootCAs: f.pool, WriteMode: WriteAD, BindDN: "CN=sspr,OU=Services,DC=corp,DC=example",
		BindPassword: "service-pw", BaseDN: "OU=People,DC=corp,DC=example", UserFilter: "(sAMAccountName=%s)",
		AttrUsername: "sAMAccountName", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (f *fakeAD) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.writes...)
}

func (f *fakeAD) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	for {
		p, err := ber.ReadPacket(c)
		if err != nil || len(p.Children) < 2 {
			return
		}
		id, _ := p.Children[0].Value.(int64)
		op := p.Children[1]
		switch op.Tag {
		case ldap.ApplicationBindRequest:
			f.reply(c, id, ldap.ApplicationBindResponse, 0, "")
		case ldap.ApplicationUnbindRequest:
			return
		case ldap.ApplicationSearchRequest:
			filter, _ := ldap.DecompileFilter(op.Children[6])
			f.mu.Lock()
			name := strings.ToLower(first(f.entry["sAMAccountName"]))
			if name != "" && strings.Contains(strings.ToLower(filter), "="+name+")") {
				f.send(c, id, f.searchEntry(op))
			}
			f.mu.Unlock()
			f.reply(c, id, ldap.ApplicationSearchResultDone, 0, "")
		case ldap.ApplicationModifyRequest:
			f.reply(c, id, ldap.ApplicationModifyResponse, f.modify(op), "")
		default:
			f.reply(c, id, ldap.ApplicationExtendedResponse, ldap.LDAPResultUnwillingToPerform, "00000057: not here")
		}
	}
}

// modify records a modify request and returns its result code; a write
// that is refused changes nothing.
func (f *fakeAD) modify(op *ber.Packet) uint16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	dn := op.Children[0].Value.(string)
	code := uint16(0)
	var changes [][2]string
	for _, ch := range op.Children[1].Children {
		kind := ch.Children[0].Value.(int64)
		attr := ch.Children[1].Children[0].Value.(string)
		var values []string
		for _, v := range ch.Children[1].Children[1].Children {
			values = append(values, fmt.Sprintf("%q", v.Data.String()))
		}
		f.writes = append(f.writes, fmt.Sprintf("%s: %s %s=%s", dn, modOps[kind], attr, strings.Join(values, ",")))
		if c, ok := f.refuse[attr]; ok {
			code = c
		}
		if kind == 2 && len(values) == 1 {
			changes = append(changes, [2]string{attr, ch.Children[1].Children[1].Children[0].Data.String()})
		}
	}
	if code == 0 {
		for _, c := range changes {
			f.entry[c[0]] = []string{c[1]}
		}
	}
	return code
}

// searchEntry answers the user search with the attributes it asked for.
func (f *fakeAD) searchEntry(op *ber.Packet) *ber.Packet {
	e := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "entry")
	e.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, f.dn, "dn"))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	for _, a := range op.Children[7].Children {
		name := a.Value.(string)
		values, ok := f.entry[name]
		if !ok {
			continue
		}
		pa := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
		pa.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, "type"))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "values")
		for _, v := range values {
			set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "value"))
		}
		pa.AppendChild(set)
		attrs.AppendChild(pa)
	}
	e.AppendChild(attrs)
	return e
}

func (f *fakeAD) reply(c net.Conn, id int64, tag ber.Tag, code uint16, diagnostic string) {
	r := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "response")
	r.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), "resultCode"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diagnostic, "diagnostic"))
	f.send(c, id, r)
}

func (f *fakeAD) send(c net.Conn, id int64, op *ber.Packet) {
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "message")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "id"))
	env.AppendChild(op)
	_, _ = c.Write(env.Bytes())
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dc.corp.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
