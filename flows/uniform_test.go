package flows_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// smtpMode is how the test mail server behaves.
type smtpMode int

const (
	smtpFast     smtpMode = iota // answers at once, accepts everything
	smtpSlow                     // waits 100 ms before every reply
	smtpRefusing                 // refuses every recipient for good
	smtpHanging                  // accepts the connection and never says a word
)

func (m smtpMode) String() string {
	return [...]string{"fast", "slow", "refusing", "hanging"}[m]
}

// rawSMTP is a plain-text SMTP server on loopback that behaves as its mode
// says, and counts the messages it accepted.
type rawSMTP struct {
	mode     smtpMode
	l        net.Listener
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	accepted int
}

func startRawSMTP(t *testing.T, mode smtpMode) *rawSMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawSMTP{mode: mode, l: l, conns: map[net.Conn]struct{}{}}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
	t.Cleanup(s.close)
	return s
}

// close stops the server and drops every connection, so sends still
// hanging on one fail at once.
func (s *rawSMTP) close() {
	_ = s.l.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
}

func (s *rawSMTP) serve(c net.Conn) {
	defer c.Close()
	if s.mode == smtpHanging {
		_, _ = c.Read(make([]byte, 1))
		return
	}
	r := bufio.NewReader(c)
	reply := func(line string) bool {
		if s.mode == smtpSlow {
			time.Sleep(100 * time.Millisecond)
		}
		_, err := fmt.Fprintf(c, "%s\r\n", line)
		return err == nil
	}
	if !reply("220 mail.example.com ESMTP") {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		var ok bool
		switch verb {
		case "EHLO", "HELO":
			ok = reply("250 mail.example.com")
		case "MAIL", "RSET", "NOOP":
			ok = reply("250 OK")
		case "RCPT":
			if s.mode == smtpRefusing {
				ok = reply("550 5.1.1 mailbox unavailable")
			} else {
				ok = reply("250 OK")
			}
		case "DATA":
			if !reply("354 go ahead") {
				return
			}
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			s.mu.Lock()
			s.accepted++
			s.mu.Unlock()
			ok = reply("250 OK queued")
		case "QUIT":
			_ = reply("221 bye")
			return
		default:
			ok = reply("502 unknown")
		}
		if !ok {
			return
		}
	}
}

func (s *rawSMTP) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// uniformHarness is a service that mails codes through srv, with alice (an
// email address), dave (the same, but disabled), erin (nothing registered)
// and nobody called zed.
func uniformHarness(t *testing.T, srv *rawSMTP) *flowstest.Harness {
	t.Helper()
	port := srv.l.Addr().(*net.TCPAddr).Port
	h := flowstest.New(t, flowstest.Options{Channels: func(*store.DB, clock.Clock) map[string]dispatch.Channel {
		ch, err := dispatch.NewSMTPChannel(dispatch.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: dispatch.TLSNone,
			From: "sspr@example.com", Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return map[string]dispatch.Channel{dispatch.ChannelEmail: ch}
	}})
	for _, name := range []string{"alice", "dave", "erin"} {
		h.AddUser(t, name, false)
	}
	h.RegisterVerified(t, "alice", policy.Email, "alice@example.com")
	h.RegisterVerified(t, "dave", policy.Email, "dave@example.com")
	if err := h.Svc.SetDisabled(context.Background(), h.Admin, "dave", true); err != nil {
		t.Fatal(err)
	}
	return h
}

// maskLetters hides the letters of a masked address, the only part that
// may differ from name to name.
var maskLetters = regexp.MustCompile(`\p{L}•••\p{L}@`)

// TestCodeSendLooksTheSameForEveryName: whatever the mail server does, an
// outsider cannot tell a real account from a disabled, unregistered or
// unknown one at the identify step, the code-send step or a wrong code: the
// same answers in the same words, and median times within 10 ms.
func TestCodeSendLooksTheSameForEveryName(t *testing.T) {
	if testing.Short() {
		t.Skip("times 320 resets")
	}
	names := []string{"alice", "dave", "erin", "zed"}
	const samples = 20
	for _, mode := range []smtpMode{smtpFast, smtpSlow, smtpRefusing, smtpHanging} {
		t.Run(mode.String(), func(t *testing.T) {
			srv := startRawSMTP(t, mode)
			h := uniformHarness(t, srv)
			ctx := context.Background()
			times, verifyTimes := map[string][]time.Duration{}, map[string][]time.Duration{}
			said := map[string]map[string]bool{}
			for i := 0; i < samples; i++ {
				for _, name := range names {
					start := time.Now()
					rs, err := h.Svc.StartReset(ctx, name, flowstest.Source)
					if err != nil {
						t.Fatalf("%s: start: %v", name, err)
					}
					sent, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email)
					times[name] = append(times[name], time.Since(start))
					start = time.Now()
					_, verr := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, "00000000")
					verifyTimes[name] = append(verifyTimes[name], time.Since(start))
					words := fmt.Sprintf("options %s | sent %s %v %v | err %v | verify %v", optionsOf(rs),
						maskLetters.ReplaceAllString(sent.Destination, "x•••x@"), sent.ExpiresAt.Sub(h.Clock.Now()),
						sent.ResendAt.Sub(h.Clock.Now()), err, verr)
					if said[name] == nil {
						said[name] = map[string]bool{}
					}
					said[name][words] = true
					// Past the per-account send limit, and the failed proofs
					// off the books, without touching what is timed.
					h.Clock.Advance(time.Minute)
					if _, err := h.Svc.Unlock(ctx, h.Admin, name); err != nil {
						t.Fatal(err)
					}
				}
			}
			if mode == smtpHanging {
				srv.close()
			}
			h.Settle()
			want := said["zed"]
			if len(want) != 1 {
				t.Fatalf("zed saw %d different things: %v", len(want), want)
			}
			for _, name := range names {
				if fmt.Sprint(said[name]) != fmt.Sprint(want) {
					t.Errorf("%s saw %v\nzed saw %v", name, said[name], want)
				}
			}
			for step, ts := range map[string]map[string][]time.Duration{"start and send": times, "wrong code": verifyTimes} {
				base := median(ts["zed"])
				for _, name := range names {
					if d := median(ts[name]) - base; d > 10*time.Millisecond || d < -10*time.Millisecond {
						t.Errorf("%s: %s: median %v, zed %v", step, name, median(ts[name]), base)
					}
				}
				t.Logf("%s: %s: medians alice %v dave %v erin %v zed %v", mode, step, median(ts["alice"]),
					median(ts["dave"]), median(ts["erin"]), base)
			}
			if mode == smtpFast && srv.count() != 2*samples {
				t.Fatalf("the server accepted %d codes, want %d (alice's and dave's)", srv.count(), 2*samples)
			}
		})
	}
}

func optionsOf(rs flows.ResetStart) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of", rs.Required)
	for _, o := range rs.Options {
		fmt.Fprintf(&b, " %s[%s]", o.Method, maskLetters.ReplaceAllString(o.Destination, "x•••x@"))
	}
	return b.String()
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// TestDecoyTakesTheTypicalShape: an unknown name offers the methods most
// people registered, with a masked address made from the name as a real
// one would be, and a number with the calling code most people have; the
// same questions come back for the same name.
func TestDecoyTakesTheTypicalShape(t *testing.T) {
	h := flowstest.New(t)
	h.SetPolicy(t, "methods_allowed", "email,sms,authenticator,recovery_codes,voucher,questions")
	// Three of four people have an email address at corp.example and a
	// British number; one has an authenticator alone.
	for i, name := range []string{"ann", "ben", "cat", "dan"} {
		h.AddUser(t, name, false)
		if i == 3 {
			h.RegisterVerified(t, name, policy.Authenticator, "JBSWY3DPEHPK3PXP")
			continue
		}
		h.RegisterVerified(t, name, policy.Email, name+"@corp.example")
		h.RegisterVerified(t, name, policy.SMS, fmt.Sprintf("+4477009000%02d", i))
	}
	// An administrator's shape does not count.
	h.AddUser(t, "root", true)
	h.RegisterVerified(t, "root", policy.Authenticator, "JBSWY3DPEHPK3PXP")
	h.RegisterVerified(t, "root", policy.Email, "root@admins.example")

	real, decoy := h.StartReset(t, "ann"), h.StartReset(t, "erin")
	lastDigits := regexp.MustCompile(`\d{4}\]`)
	if got, want := lastDigits.ReplaceAllString(optionsOf(decoy), "9999]"), lastDigits.ReplaceAllString(optionsOf(real), "9999]"); got != want {
		t.Fatalf("decoy offers %s, a typical account %s", got, want)
	}
	if decoy.Options[0].Destination != "e•••n@corp.example" || real.Options[0].Destination != "a•••n@corp.example" {
		t.Fatalf("masked addresses: decoy %q, real %q", decoy.Options[0].Destination, real.Options[0].Destination)
	}
	if !regexp.MustCompile(`^\+44 ••• ••• \d{4}$`).MatchString(decoy.Options[1].Destination) {
		t.Fatalf("decoy number %q", decoy.Options[1].Destination)
	}
	if again := h.StartReset(t, "erin"); again.Options[1].Destination != decoy.Options[1].Destination {
		t.Fatalf("the decoy number changes between tries: %q, %q", again.Options[1].Destination, decoy.Options[1].Destination)
	}

	// With questions in the typical shape, a decoy asks from the same pool
	// of questions every time, as a real person's registered ones are.
	ctx := context.Background()
	h.SetPolicy(t, "questions_to_register", "3")
	h.SetPolicy(t, "questions_to_answer", "3")
	for _, name := range []string{"ann", "ben", "cat"} {
		if err := h.Svc.RegisterQuestions(ctx, h.SignIn(t, name), []flows.QuestionAnswer{
			{Question: "What was the name of your first stuffed animal?", Answer: "Mr Bear"},
			{Question: "In which town did your grandmother live?", Answer: "Kirkwall"},
			{Question: "What was your childhood nickname?", Answer: "Dodo"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	h.Clock.Advance(2 * time.Minute) // the typical shape is worked out again
	h.StartReset(t, "someone")
	h.Settle()
	pools := map[string]bool{}
	for range 5 {
		rs := h.StartReset(t, "erin")
		if !strings.Contains(optionsOf(rs), "questions") {
			t.Fatalf("the decoy offers no questions: %s", optionsOf(rs))
		}
		qs, err := h.Svc.Questions(ctx, rs.FlowID)
		if err != nil {
			t.Fatal(err)
		}
		// Real people's catalogue questions are stored in English and
		// shown in the reader's language: a decoy's must be the same.
		for _, q := range qs {
			if !slices.Contains(flows.Questions(locale.Embedded().Source()), q) {
				t.Fatalf("decoy question %q is not a catalogue question's English text", q)
			}
		}
		sorted := append([]string(nil), qs...)
		sort.Strings(sorted)
		pools[strings.Join(sorted, "|")] = true
	}
	if len(pools) != 1 {
		t.Fatalf("erin's decoy asked %d different sets of questions: %v", len(pools), pools)
	}
}
