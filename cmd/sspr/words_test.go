package main

import (
	"strings"
	"testing"
)

// TestCountsInWords: a count of one reads in the singular, in what the CLI
// prints, in its refusals (cobra's "arg(s)" included) and in the audit log.
func TestCountsInWords(t *testing.T) {
	f := newFolder(t)
	r := f.run("user", "import", writeFile(t, "one.csv", importHeader+"heidi,Heidi Example,heidi@example.com,,,\n"))
	if r.code != 0 || !strings.HasSuffix(r.stderr, "imported 1 user\n") {
		t.Fatalf("import of one user:\n%s", r)
	}
	var detail string
	for _, rec := range f.auditRecords() {
		if rec["event"] == "user.created" && rec["target"] == "import" {
			detail, _ = rec["detail"].(string)
		}
	}
	if detail != "imported 1 user, skipped 0" {
		t.Fatalf("import audit detail %q", detail)
	}
	f.fails("accepts 1 argument, received 2", "user", "show", "heidi", "ivan")
	f.fails("accepts 2 arguments, received 1", "group", "add-member", "staff")
	f.fails("policy set takes KEY VALUE, got 1 argument", "policy", "set", "password_history")
}
