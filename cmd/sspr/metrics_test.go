package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// scrape reads /metrics and returns each sample line's value by its name
// and labels, as Prometheus writes them.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// labelValue finds label values that look like an address or a username
// from the test's traffic.
var personal = regexp.MustCompile(`127\.0\.0\.1|alice|example\.com`)

// A reset over OpenSSH moves the counters it should, no label names a
// person or an address, and /readyz turns unready as the portal drains.
func TestMetricsDuringSSHReset(t *testing.T) {
	sshPath := sshClient(t)
	data := filepath.Join(t.TempDir(), "d")
	mport := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", mport)
	p := startPortalProcess(t, cleanEnv(), "demo", "--data", data, "--metrics-listen", fmt.Sprintf("127.0.0.1:%d", mport))

	if got := status(t, base+"/healthz"); got != http.StatusOK {
		t.Fatalf("/healthz %d", got)
	}
	if got := status(t, base+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz %d before the drain", got)
	}
	before := scrape(t, base)

	c := p.startReset(t, sshPath, "alice")
	c.waitFor("Email me a code")
	during := scrape(t, base)
	if during["sspr_connections_open"] < 1 || during["sspr_sessions_drawing"] < 1 {
		t.Errorf("during the session: connections %v, drawing %v", during["sspr_connections_open"],
			during["sspr_sessions_drawing"])
	}
	c.send("\r")
	c.waitFor("We sent a code to")
	code := outboxCode(t, filepath.Join(data, "sspr.db"), "alice@example.com")
	c.typeText(code)
	c.send("\r")
	c.waitFor("Type it again")
	const pw = "Saffron kettle orbit 71 pines"
	c.typeText(pw)
	c.send("\r")
	c.typeText(pw)
	c.waitFor("Both entries match")
	time.Sleep(200 * time.Millisecond)
	c.send("\r")
	c.waitFor("Your password has been changed")
	after := scrape(t, base)

	for name, want := range map[string]float64{
		`sspr_password_operations_total{operation="reset",outcome="ok"}`:    1,
		`sspr_audit_events_total{event="password.reset",outcome="ok"}`:      1,
		`sspr_audit_events_total{event="code.sent",outcome="ok"}`:           1,
		`sspr_audit_events_total{event="verify.succeeded",outcome="ok"}`:    1,
		`sspr_messages_sent_total{channel="email",kind="code",result="ok"}`: 1,
		`sspr_delivery_seconds_count{channel="email"}`:                      1,
	} {
		if got := after[name] - before[name]; got != want {
			t.Errorf("%s moved by %v, want %v", name, got, want)
		}
	}
	if after["sspr_argon2_queue_wait_seconds_count"] <= before["sspr_argon2_queue_wait_seconds_count"] {
		t.Error("no argon2 wait observed for the new password")
	}
	if _, ok := after[`sspr_outbox_depth{kind="webhook"}`]; !ok {
		t.Error("no outbox depth")
	}
	for name := range after {
		if personal.MatchString(name) {
			t.Errorf("a series names a person or an address: %s", name)
		}
	}

	// A session still open holds the drain; meanwhile /readyz is unready
	// and /healthz still alive.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.waitFor("The portal is restarting")
	if got := status(t, base+"/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz %d during the drain, want 503", got)
	}
	if got := status(t, base+"/healthz"); got != http.StatusOK {
		t.Errorf("/healthz %d during the drain", got)
	}
	c.send("\x03")
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exited with %v; stderr:\n%s", err, p.stderr)
		}
	case <-time.After(e2eWait):
		t.Fatalf("did not exit after the drain; stderr:\n%s", p.stderr)
	}
}
