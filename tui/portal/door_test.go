package portal

import (
	"net"
	"net/netip"
	"testing"
)

// TestAddrKey: IPv4 addresses count one by one, IPv6 ones by their /64,
// and the port, a zone or an IPv4-mapped form change nothing.
func TestAddrKey(t *testing.T) {
	tcp := func(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	for _, tt := range []struct {
		addr net.Addr
		want string
	}{
		{tcp("192.0.2.7:50000"), "192.0.2.7"},
		{tcp("192.0.2.8:50000"), "192.0.2.8"},
		{tcp("[::ffff:192.0.2.7]:1"), "192.0.2.7"},
		{tcp("[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:22"), "2001:db8:1:2::/64"},
		{tcp("[2001:db8:1:2::1]:22"), "2001:db8:1:2::/64"},
		{tcp("[2001:db8:1:3::1]:22"), "2001:db8:1:3::/64"},
		{tcp("[fe80::1%eth0]:22"), "fe80::/64"},
		{tcp("[::1]:22"), "::/64"},
		// Not a TCP address: parsed from its text, or taken as it is.
		{&net.UDPAddr{IP: net.ParseIP("2001:db8::9"), Port: 1}, "2001:db8::/64"},
		{pipeAddr("192.0.2.9:7"), "192.0.2.9"},
		{pipeAddr("2001:db8::5"), "2001:db8::/64"},
		{pipeAddr("pipe"), "pipe"},
	} {
		if got := addrKey(tt.addr); got != tt.want {
			t.Errorf("addrKey(%s) = %q; want %q", tt.addr, got, tt.want)
		}
	}
}

type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// FuzzAddrKey: two IPv6 addresses share a key exactly when they share
// their first 64 bits, two IPv4 addresses only when they are the same, and
// an IPv4 address never shares one with an IPv6 address.
func FuzzAddrKey(f *testing.F) {
	f.Add([]byte("\x20\x01\x0d\xb8\x00\x01\x00\x02\xaa\xaa\xbb\xbb\xcc\xcc\xdd\xdd"),
		[]byte("\x20\x01\x0d\xb8\x00\x01\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01"))
	f.Add([]byte{192, 0, 2, 7}, []byte{192, 0, 2, 8})
	f.Add([]byte{192, 0, 2, 7}, []byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xc0\x00\x02\x07"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ipA, okA := netip.AddrFromSlice(a)
		ipB, okB := netip.AddrFromSlice(b)
		if !okA || !okB {
			return
		}
		ipA, ipB = ipA.Unmap(), ipB.Unmap()
		keyA := addrKey(&net.TCPAddr{IP: a, Port: 1})
		keyB := addrKey(&net.TCPAddr{IP: b, Port: 2})
		var same bool
		switch {
		case ipA.Is4() && ipB.Is4():
			same = ipA == ipB
		case ipA.Is6() && ipB.Is6():
			pa, _ := ipA.Prefix(64)
			pb, _ := ipB.Prefix(64)
			same = pa == pb
		}
		if (keyA == keyB) != same {
			t.Fatalf("%s → %q and %s → %q: same key %v, want %v", ipA, keyA, ipB, keyB, keyA == keyB, same)
		}
	})
}
