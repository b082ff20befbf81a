package main

import (
	"os"
	"slices"
	"testing"
	"time"
)

func TestLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:2222":    true,
		"127.0.0.9:22":      true,
		"[::1]:2222":        true,
		"localhost:2222":    true,
		"10.0.0.1:22":       false,
		"0.0.0.0:2222":      false,
		"[::]:2222":         false,
		"192.168.1.10:2222": false,
		"example.com:22":    false,
		"127.0.0.1":         false, // no port
	} {
		if err := loopbackOnly("--addr", addr); (err == nil) != ok {
			t.Errorf("loopbackOnly(%q) = %v; want ok=%v", addr, err, ok)
		}
	}
}

func TestOptionBounds(t *testing.T) {
	good := options{addrs: addrList{"127.0.0.1:2222"}, sessions: 10, timeout: time.Minute, rows: 24, cols: 80}
	if err := good.check(); err != nil {
		t.Fatal(err)
	}
	if good.parallel != 10 || good.sources != 3 {
		t.Fatalf("defaults: parallel %d, sources %d", good.parallel, good.sources)
	}
	for name, o := range map[string]options{
		"too many":       {addrs: addrList{"127.0.0.1:2222"}, sessions: maxSessions + 1, timeout: time.Minute, rows: 24, cols: 80},
		"none":           {addrs: addrList{"127.0.0.1:2222"}, sessions: 0, timeout: time.Minute, rows: 24, cols: 80},
		"endless":        {addrs: addrList{"127.0.0.1:2222"}, sessions: 1, timeout: time.Hour, rows: 24, cols: 80},
		"remote":         {addrs: addrList{"10.1.1.1:2222"}, sessions: 1, timeout: time.Minute, rows: 24, cols: 80},
		"reset, no data": {addrs: addrList{"127.0.0.1:2222"}, sessions: 1, timeout: time.Minute, rows: 24, cols: 80, reset: true},
		"one remote of several": {addrs: addrList{"127.0.0.1:2222", "10.1.1.1:2222"}, sessions: 1, timeout: time.Minute,
			rows: 24, cols: 80},
		"remote mail sink": {addrs: addrList{"127.0.0.1:2222"}, sessions: 1, timeout: time.Minute, rows: 24, cols: 80,
			smtpListen: "0.0.0.0:2525"},
		"two stores": {addrs: addrList{"127.0.0.1:2222"}, sessions: 1, timeout: time.Minute, rows: 24, cols: 80,
			data: "/tmp/d", dsn: "postgres://localhost/sspr"},
	} {
		if err := o.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestResetCodeSources: a reset reads its codes from a store (--data or
// --dsn) or from mail (--smtp-listen); any one will do.
func TestResetCodeSources(t *testing.T) {
	for name, o := range map[string]options{
		"data": {data: "/tmp/d"},
		"dsn":  {dsn: "postgres://sspr@127.0.0.1/sspr"},
		"mail": {smtpListen: "127.0.0.1:2525"},
	} {
		o.addrs, o.sessions, o.timeout, o.rows, o.cols, o.reset = addrList{"127.0.0.1:2222"}, 1, time.Minute, 24, 80, true
		if err := o.check(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestAddrList: --addr repeats and takes comma lists, and sessions go round
// robin over the portals, from source addresses of their own family.
func TestAddrList(t *testing.T) {
	var l addrList
	for _, v := range []string{"127.0.0.1:2201", "127.0.0.1:2202, [::1]:2203,"} {
		if err := l.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.String(); got != "127.0.0.1:2201,127.0.0.1:2202,[::1]:2203" {
		t.Fatalf("addresses %q", got)
	}
	o := options{addrs: l, sessions: 7, timeout: time.Minute, rows: 24, cols: 80, sources: 2}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range 7 {
		got = append(got, o.target(i))
		if src := o.sourceAddr(i); (src == nil) != (i%3 == 2) {
			t.Errorf("session %d to %s from %v", i, o.target(i), src)
		}
	}
	want := []string{"127.0.0.1:2201", "127.0.0.1:2202", "[::1]:2203", "127.0.0.1:2201", "127.0.0.1:2202", "[::1]:2203", "127.0.0.1:2201"}
	if !slices.Equal(got, want) {
		t.Fatalf("targets %v; want %v", got, want)
	}
	var none options
	none.sessions, none.timeout, none.rows, none.cols = 1, time.Minute, 24, 80
	if err := none.check(); err != nil || none.addrs.String() != "127.0.0.1:2222" {
		t.Fatalf("no --addr: %v, %q", err, none.addrs.String())
	}
}

func TestSourceAddr(t *testing.T) {
	o := options{addrs: addrList{"127.0.0.1:2222"}, sources: 3}
	seen := map[string]bool{}
	for i := range 9 {
		a := o.sourceAddr(i)
		if a == nil || !a.IP.IsLoopback() {
			t.Fatalf("source %d: %v", i, a)
		}
		seen[a.IP.String()] = true
	}
	if len(seen) != 3 {
		t.Fatalf("sources used: %v", seen)
	}
	o6 := options{addrs: addrList{"[::1]:2222"}, sources: 3}
	if a := o6.sourceAddr(1); a != nil {
		t.Fatalf("IPv6 target got source %v", a)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p := percentile(ds, 0.5); p != 50*time.Millisecond {
		t.Errorf("p50 %s", p)
	}
	if p := percentile(ds, 0.99); p != 99*time.Millisecond {
		t.Errorf("p99 %s", p)
	}
	if p := percentile(ds, 1); p != 100*time.Millisecond {
		t.Errorf("max %s", p)
	}
	if p := percentile(nil, 0.5); p != 0 {
		t.Errorf("empty %s", p)
	}
}

// TestWatch: text is found across writes, escape sequences and cursor
// moves in between, and only after expect.
func TestWatch(t *testing.T) {
	w := &watch{}
	_, _ = w.Write([]byte("Reset a forgotten password"))
	ch := w.expect("Reset a forgotten password")
	for _, chunk := range []string{"\x1b[?1049h\x1b[2;3HRe", "set a\x1b[1C", "\x1b[38;5;1mforgot", "ten pass", "word\x1b[m"} {
		select {
		case <-ch:
			t.Fatalf("found before %q", chunk)
		default:
		}
		_, _ = w.Write([]byte(chunk))
	}
	select {
	case <-ch:
	default:
		t.Fatalf("not found; screen %q", w.screen())
	}
	if w.firstAt.IsZero() || w.total == 0 {
		t.Fatal("first output not recorded")
	}
}

func TestReadMem(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps_rollup"); err != nil {
		t.Skip("no /proc")
	}
	m, err := readMem(os.Getpid(), true)
	if err != nil {
		t.Fatal(err)
	}
	if m.pss <= 0 || m.rss <= 0 || m.procs < 1 {
		t.Fatalf("%+v", m)
	}
	if cpuTicks(os.Getpid(), false) < 0 {
		t.Fatal("negative CPU time")
	}
	if _, err := readMem(1<<30, false); err == nil {
		t.Fatal("a process that does not exist was measured")
	}
}
