package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
)

// TestBlockCommands: `block list` shows the blocks in force, sources first,
// as a table or JSON on stdout; `block clear account NAME` and `block clear
// source KEY` lift one each, audited, and refuse what is not blocked.
func TestBlockCommands(t *testing.T) {
	f := newFolder(t)
	f.ok("user", "add", "alice", "--admin")
	if out := f.ok("block", "list"); out != "KIND  KEY  SINCE  UNTIL  WHY\n" {
		t.Fatalf("block list with no blocks: %q", out)
	}
	f.service(func(ctx context.Context, svc *flows.Service) {
		for i := range flows.AccountFailLimit {
			// A made-up name, from several places: only the account blocks.
			_, _ = svc.SignIn(ctx, "Nobody", "wrong password", fmt.Sprintf("kiosk:k%d", i))
		}
		for i := range flows.SourceFailLimit {
			_, _ = svc.SignIn(ctx, fmt.Sprintf("visitor%02d", i), "wrong password", "kiosk:counter-9")
		}
		if _, err := svc.StartReset(ctx, "alice", "kiosk:counter-9"); !errors.Is(err, flows.ErrBlocked) {
			t.Fatalf("counter-9 is not blocked: %v", err)
		}
	})

	r := f.run("block", "list")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || r.stderr != "" || len(lines) != 3 {
		t.Fatalf("block list:\n%s", r)
	}
	for i, want := range []string{`^KIND\s+KEY\s+SINCE\s+UNTIL\s+WHY$`,
		`^terminal\s+kiosk:counter-9\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+30 failures in 5 minutes$`,
		`^account\s+nobody\s+.*\s+5 failures in 24 hours$`} {
		if !regexp.MustCompile(want).MatchString(lines[i]) {
			t.Errorf("block list line %d = %q, want %s", i, lines[i], want)
		}
	}

	var listed []struct {
		Kind, Key, Reason string
		Since, Until      time.Time
	}
	if err := json.Unmarshal([]byte(f.ok("block", "list", "--format", "json")), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[0].Kind != "terminal" || listed[0].Key != "kiosk:counter-9" ||
		listed[0].Until.Sub(listed[0].Since) != flows.TerminalBlockFor || listed[1].Kind != "account" ||
		listed[1].Key != "nobody" || listed[1].Until.Sub(listed[1].Since) != flows.AccountBlockFor {
		t.Fatalf("block list --format json: %+v", listed)
	}

	for _, c := range []struct{ args, msg string }{
		{"block clear source kiosk:counter-9", "cleared the block on source kiosk:counter-9\n"},
		{"block clear account Nobody", "cleared the block on account Nobody\n"},
	} {
		if r := f.run(strings.Fields(c.args)...); r.code != 0 || r.stdout != "" || r.stderr != c.msg {
			t.Fatalf("%s:\n%s", c.args, r)
		}
	}
	if out := f.ok("block", "list"); strings.Count(out, "\n") != 1 {
		t.Fatalf("block list after clearing both:\n%s", out)
	}
	f.service(func(ctx context.Context, svc *flows.Service) {
		if _, err := svc.StartReset(ctx, "alice", "kiosk:counter-9"); err != nil {
			t.Fatalf("counter-9 after block clear: %v", err)
		}
	})

	cleared := map[string]string{}
	for _, rec := range f.auditRecords() {
		if rec["event"] == "block.cleared" {
			cleared[rec["target"].(string)] = rec["actor"].(string) + " " + rec["source"].(string)
		}
	}
	if len(cleared) != 2 || !strings.HasPrefix(cleared["source:kiosk:counter-9"], "cli") ||
		!strings.HasSuffix(cleared["source:kiosk:counter-9"], " cli") || !strings.HasPrefix(cleared["nobody"], "cli") {
		t.Fatalf("block.cleared rows: %v", cleared)
	}

	f.fails(`source "kiosk:counter-9" is not blocked`, "block", "clear", "source", "kiosk:counter-9")
	f.fails(`account "alice" is not blocked`, "block", "clear", "account", "alice")
	f.fails(`block clear takes account NAME or source KEY; "group" is neither`, "block", "clear", "group", "x")
	f.fails("block clear takes account NAME or source KEY, got 1 arguments", "block", "clear", "account")
	f.fails(`format "xml": use table or json`, "block", "list", "--format", "xml")
	f.fails(`unknown command "frob" for "sspr block"`, "block", "frob")
}
