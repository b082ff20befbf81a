package audit

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheckpointPinsTheHead(t *testing.T) {
	ctx := context.Background()
	f := newFolder(t, 5)
	st, err := os.Stat(f.checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("checkpoint mode %v, want 0600", st.Mode().Perm())
	}
	cp, ok, err := chain.ReadCheckpoint(f.checkpoint())
	if err != nil || !ok {
		t.Fatalf("read: %v, %v", ok, err)
	}
	hd, err := store.AuditHeadOf(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Head != (Head{Rows: 5, LastID: 5, MAC: hd.MAC}) || !cp.At.Equal(t0) {
		t.Fatalf("checkpoint = %+v, head %+v", cp, hd)
	}
	// Nothing left behind by the atomic write.
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	// Written again only once the head moved.
	text := readFile(t, f.checkpoint())
	if head, wrote, err := chain.Checkpoint(ctx, f.db, f.checkpoint(), t0.Add(hours(1))); err != nil || wrote ||
		head != cp.Head {
		t.Fatalf("unchanged head: %+v, wrote %v, %v", head, wrote, err)
	}
	if readFile(t, f.checkpoint()) != text {
		t.Fatal("the checkpoint was rewritten for an unchanged head")
	}
	fill(t, f.db, 1)
	head, wrote, err := chain.Checkpoint(ctx, f.db, f.checkpoint(), t0.Add(hours(1)))
	if err != nil || !wrote || head.Rows != 6 || head.LastID != 6 {
		t.Fatalf("moved head: %+v, wrote %v, %v", head, wrote, err)
	}
	if cp, _, _ := chain.ReadCheckpoint(f.checkpoint()); cp.Head != head {
		t.Fatalf("checkpoint %+v, head %+v", cp, head)
	}
	if head.ShortMAC() != head.MAC[:12] {
		t.Errorf("ShortMAC = %q", head.ShortMAC())
	}
}

// Once written, the checkpoint only moves forward along one chain: a log cut
// back, with its head moved or an old head put back, or rewritten, leaves it
// as it is, as the evidence.
func TestCheckpointDoesNotFollowTampering(t *testing.T) {
	ctx := context.Background()
	f := newFolder(t, 20)
	old, err := store.AuditHeadOf(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, f.db, 10)
	f.pin(t)
	pinned := readFile(t, f.checkpoint())
	try := func(want error) {
		t.Helper()
		_, wrote, err := chain.Checkpoint(ctx, f.db, f.checkpoint(), t0.Add(hours(2)))
		if !errors.Is(err, want) || wrote {
			t.Fatalf("Checkpoint = wrote %v, %v; want %v", wrote, err, want)
		}
		if readFile(t, f.checkpoint()) != pinned {
			t.Fatal("the checkpoint moved")
		}
	}

	f.attacker(t, `DELETE FROM audit WHERE id > 20`,
		`UPDATE audit_head SET last_id = 20, rows = 20, last_hash = (SELECT hash FROM audit WHERE id = 20)`)
	try(ErrHeadMismatch)
	f.attacker(t, `UPDATE audit_head SET mac = '`+old.MAC+`'`)
	try(ErrNotExtended)
	// The log grows past the checkpoint again, on another chain.
	for range 15 {
		appendOne(t, f.db, Entry{At: t0, Event: EventCodeSent, Actor: "someone else"})
	}
	try(ErrNotExtended)

	// Removing the file (after restoring a backup, say) starts it afresh.
	if err := os.Remove(f.checkpoint()); err != nil {
		t.Fatal(err)
	}
	if head, wrote, err := chain.Checkpoint(ctx, f.db, f.checkpoint(), t0); err != nil || !wrote || head.Rows != 35 {
		t.Fatalf("after removing it: %+v, wrote %v, %v", head, wrote, err)
	}
}

// A checkpoint changed by hand, or written under another key, is not used,
// not overwritten, and reported.
func TestCheckpointAlteredIsRefused(t *testing.T) {
	ctx := context.Background()
	f := newFolder(t, 8)
	altered := strings.Replace(readFile(t, f.checkpoint()), `"rows":8`, `"rows":7`, 1)
	if err := os.WriteFile(f.checkpoint(), []byte(altered), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := chain.ReadCheckpoint(f.checkpoint()); !errors.Is(err, ErrCheckpoint) {
		t.Fatalf("ReadCheckpoint = %v", err)
	}
	expectFindings(t, f.findings(t), "the checkpoint cannot be trusted: MAC mismatch (altered, or written under another key)")
	fill(t, f.db, 1)
	if _, wrote, err := chain.Checkpoint(ctx, f.db, f.checkpoint(), t0); !errors.Is(err, ErrCheckpoint) || wrote {
		t.Fatalf("Checkpoint over an altered one = wrote %v, %v", wrote, err)
	}
	if readFile(t, f.checkpoint()) != altered {
		t.Fatal("an altered checkpoint was overwritten")
	}

	if err := os.WriteFile(f.checkpoint(), []byte("rows=8\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := f.findings(t)
	if len(got) != 1 || !strings.HasPrefix(got[0], "the checkpoint cannot be trusted: ") {
		t.Fatalf("findings = %q", got)
	}
}

func TestParseCheckpoint(t *testing.T) {
	const head = "1111111111111111111111111111111111111111111111111111111111111111"
	const mac = "2222222222222222222222222222222222222222222222222222222222222222"
	good := `{"version":1,"rows":3,"last_id":4,"head":"` + head + `","at":"2025-03-01T09:00:00Z","mac":"` + mac + `"}`
	cp, err := ParseCheckpoint([]byte(good + "\n"))
	if err != nil || cp.Rows != 3 || cp.LastID != 4 || cp.MAC != head || cp.Sum != mac || !cp.At.Equal(t0) {
		t.Fatalf("ParseCheckpoint = %+v, %v", cp, err)
	}
	if string(cp.marshal()) != good+"\n" {
		t.Errorf("marshal = %s", cp.marshal())
	}
	for name, bad := range map[string]string{
		"empty":          ``,
		"not json":       `rows 3`,
		"version":        strings.Replace(good, `"version":1`, `"version":2`, 1),
		"unknown field":  strings.Replace(good, `{`, `{"x":1,`, 1),
		"trailing data":  good + `{}`,
		"negative rows":  strings.Replace(good, `"rows":3`, `"rows":-1`, 1),
		"rows past last": strings.Replace(good, `"rows":3`, `"rows":5`, 1),
		"short head":     strings.Replace(good, head, head[:63], 1),
		"upper-case mac": strings.Replace(good, mac, strings.Repeat("A", 64), 1),
		"bad time":       strings.Replace(good, `2025-03-01T09:00:00Z`, `yesterday`, 1),
	} {
		if _, err := ParseCheckpoint([]byte(bad)); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: ParseCheckpoint = %v, want ErrCheckpoint", name, err)
		}
	}
}

// FuzzParseCheckpoint: any bytes are refused or parsed, never a panic, and
// what parses writes back to something that parses to the same.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte(`{"version":1,"rows":3,"last_id":4,"head":"1111111111111111111111111111111111111111111111111111111111111111","at":"2025-03-01T09:00:00Z","mac":"2222222222222222222222222222222222222222222222222222222222222222"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := ParseCheckpoint(data)
		if err != nil {
			if !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("error %v does not wrap ErrCheckpoint", err)
			}
			return
		}
		again, err := ParseCheckpoint(cp.marshal())
		if err != nil || again.Head != cp.Head || again.Sum != cp.Sum || !again.At.Equal(cp.At) {
			t.Fatalf("%q parsed to %+v, which writes back as %q: %+v, %v", data, cp, cp.marshal(), again, err)
		}
	})
}
