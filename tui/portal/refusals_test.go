package portal

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/sspr-kiosk/sspr/flows/clock"
)

// refusalLines is what a refusal log wrote, line by line, with runs of
// spaces (the level's padding) as one.
func refusalLines(buf *bytes.Buffer) []string {
	var lines []string
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if line != "" {
			lines = append(lines, strings.Join(strings.Fields(line), " "))
		}
	}
	return lines
}

// TestRefusalLogOncePerMinute: an address refused again and again is
// logged once a minute for each reason, with how many refusals the line
// stands for; another address has lines of its own.
func TestRefusalLogOncePerMinute(t *testing.T) {
	var buf bytes.Buffer
	clk := clock.NewFake(time.Unix(1e9, 0))
	l := newRefusalLog(log.New(&buf), clk)
	for range 50 {
		l.refuse("192.0.2.7", refusedAddrHandshakes)
	}
	l.refuse("192.0.2.7", refusedNoSession)
	l.refuse("2001:db8::/64", refusedAddrHandshakes)
	clk.Advance(59 * time.Second)
	l.refuse("192.0.2.7", refusedAddrHandshakes)
	want := []string{
		`WARN refused address=192.0.2.7 reason="per-address handshake cap" count=1`,
		`WARN refused address=192.0.2.7 reason="session-request timeout" count=1`,
		`WARN refused address=2001:db8::/64 reason="per-address handshake cap" count=1`,
	}
	if got := refusalLines(&buf); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("within a minute the log says\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	clk.Advance(time.Second)
	l.refuse("192.0.2.7", refusedAddrHandshakes)
	l.refuse("192.0.2.7", refusedAddrHandshakes)
	got := refusalLines(&buf)
	if len(got) != 4 || got[3] != `WARN refused address=192.0.2.7 reason="per-address handshake cap" count=51` {
		t.Fatalf("a minute later the log says\n%s\nwant a fourth line for the 51 refusals since the first", strings.Join(got, "\n"))
	}
}

// TestRefusalLogBounded: a flood from more addresses than the log keeps
// does not grow its table; the rest are counted together and logged as
// from many addresses, once a minute; old entries make room again.
func TestRefusalLogBounded(t *testing.T) {
	var buf bytes.Buffer
	clk := clock.NewFake(time.Unix(1e9, 0))
	l := newRefusalLog(log.New(&buf), clk)
	for i := range 3 * refusalKeep {
		l.refuse(fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255), refusedHandshakes)
		if len(l.seen) > refusalKeep {
			t.Fatalf("%d addresses kept", len(l.seen))
		}
	}
	lines := refusalLines(&buf)
	if len(lines) != refusalKeep+1 {
		t.Fatalf("%d lines for %d addresses; want one each for the %d kept and one for the rest", len(lines),
			3*refusalKeep, refusalKeep)
	}
	if last := lines[len(lines)-1]; last != `WARN refused address=(many) reason="handshake cap" count=1` {
		t.Fatalf("the last line is %q", last)
	}
	// A minute later a new address is kept again: the table was swept.
	buf.Reset()
	clk.Advance(time.Minute)
	l.refuse("192.0.2.1", refusedHandshakes)
	if _, ok := l.seen[refusal{"192.0.2.1", refusedHandshakes}]; !ok || len(l.seen) != 1 {
		t.Fatalf("after a minute the table holds %d entries, the new address kept %v", len(l.seen), ok)
	}
	if got := refusalLines(&buf); len(got) != 1 || got[0] != `WARN refused address=192.0.2.1 reason="handshake cap" count=1` {
		t.Fatalf("after a minute the log says %q", got)
	}
	// The addresses not kept were counted: once the table is full again,
	// the next line from many addresses says how many came since the last.
	buf.Reset()
	for i := range refusalKeep {
		l.refuse(fmt.Sprintf("10.100.%d.%d", i>>8, i&255), refusedHandshakes)
	}
	want := fmt.Sprintf(`WARN refused address=(many) reason="handshake cap" count=%d`, 2*refusalKeep)
	if got := refusalLines(&buf); got[len(got)-1] != want {
		t.Fatalf("the last line is %q; want %q", got[len(got)-1], want)
	}
}
