package tui

import (
	"context"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/invisible"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// The seeded accounts follow the demo: alice has email, bob an
// authenticator, carol email and text, dave is blocked, erin has nothing,
// admin is an administrator with email and an authenticator.
const (
	testPassword = "demo password 2026"
	testSecret   = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	helpdesk     = "helpdesk@example.com"
	// newPass meets the default rules (12 characters, strength 3).
	newPass = "plum tractor velvet 93"
)

// harness is a real service with the demo accounts seeded.
type harness struct {
	*flowstest.Harness
}

// newHarness builds a real service on a temporary SQLite file with a fake
// clock and seeds the demo accounts.
func newHarness(t testing.TB) *harness { return newHarnessWith(t, false) }

// newDemoHarness delivers codes to the outbox table, as the demo does.
func newDemoHarness(t testing.TB) *harness { return newHarnessWith(t, true) }

func newHarnessWith(t testing.TB, outbox bool) *harness {
	t.Helper()
	var opts flowstest.Options
	if outbox {
		opts.Channels = func(db *store.DB, clk clock.Clock) map[string]dispatch.Channel {
			ob := dispatch.NewOutboxChannel(db, clk)
			return map[string]dispatch.Channel{"email": ob, "sms": ob}
		}
	}
	h := &harness{flowstest.New(t, opts)}
	h.seed(t)
	return h
}

func (h *harness) seed(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	h.SetPolicy(t, "helpdesk_contact", helpdesk)
	users := []struct {
		name, display string
		admin         bool
		methods       map[policy.Method]string
	}{
		{"alice", "Alice Example", false, map[policy.Method]string{policy.Email: "alice@example.com"}},
		{"bob", "Bob Example", false, map[policy.Method]string{policy.Authenticator: testSecret}},
		{"carol", "Carol Example", false, map[policy.Method]string{policy.Email: "carol@example.com", policy.SMS: "+15551230003"}},
		{"dave", "Dave Example", false, map[policy.Method]string{policy.Email: "dave@example.com"}},
		{"erin", "Erin Example", false, nil},
		{"admin", "Ada Admin", true, map[policy.Method]string{policy.Email: "admin@example.com", policy.Authenticator: testSecret}},
	}
	for _, u := range users {
		if _, err := h.Svc.AddUser(ctx, h.Admin, flows.NewUser{Username: u.name, DisplayName: u.display,
			Email: u.name + "@example.com", Phone: "+15551230000", Admin: u.admin, Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		for _, m := range policy.AllMethods() {
			if v, ok := u.methods[m]; ok {
				h.RegisterVerified(t, u.name, m, v)
			}
		}
	}
	// From a source of their own: the failures that block dave must not
	// slow down the sign-ins tests make from "seed".
	for range flows.AccountFailLimit {
		_, _ = h.Svc.SignIn(ctx, "dave", "not dave's password", "seed:dave")
	}
}

// exec runs SQL on the store, for planting hostile data that the flows would
// refuse to write.
func (h *harness) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = h.storable(s)
		}
	}
	if _, err := h.DB.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

// storable is s as the store can hold it. PostgreSQL refuses text that is
// not UTF-8, or holds a NUL: there a stray C1 byte is planted as the
// character itself, which is just as hostile, and a NUL is left out.
func (h *harness) storable(s string) string {
	if h.DB.Engine() != store.Postgres {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\u009b"), "\x00", "")
}

// totpNow is the authenticator code for a secret at the fake time.
func (h *harness) totpNow(t testing.TB, secretB32 string) string {
	t.Helper()
	return h.TOTP(t, secretB32, h.Clock.Now())
}

// signInWorks reports whether a password is now the account's password.
func (h *harness) signInWorks(name, pw string) bool {
	info, err := h.Svc.SignIn(context.Background(), name, pw, "check")
	if err == nil {
		h.Svc.SignOut(info.ID)
	}
	return err == nil
}

// driver runs the root model synchronously: every command runs at once and
// its message is fed back, in order, until nothing is left. Ticks are only
// what the test sends: the model's own re-arming tick is dropped, so the
// fake clock alone decides what the countdowns show.
type driver struct {
	t     testing.TB
	h     *harness
	m     *Model
	queue []tea.Msg
	quit  bool
}

func newDriver(t testing.TB, h *harness, opts Options) *driver {
	t.Helper()
	opts.Service = h.Svc
	if opts.Source == "" {
		opts.Source = "kiosk:test"
	}
	opts.Tick = time.Nanosecond
	d := &driver{t: t, h: h, m: New(opts)}
	d.exec(d.m.Init())
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	return d
}

func kiosk(t testing.TB, h *harness) *driver {
	return newDriver(t, h, Options{Mode: ModeKiosk, IdleTimeout: 120 * time.Second, DoneTimeout: 30 * time.Second})
}

// update runs Update alone and returns its command without running it, so
// a test can hold a result back (a slow send) and deliver it later.
func (d *driver) update(msg tea.Msg) tea.Cmd {
	d.t.Helper()
	_, cmd := d.m.Update(msg)
	return cmd
}

// send delivers messages and everything they lead to.
func (d *driver) send(msgs ...tea.Msg) {
	d.t.Helper()
	for _, msg := range msgs {
		d.queue = append(d.queue, msg)
		d.drain()
	}
}

// exec runs a command and everything it leads to.
func (d *driver) exec(cmd tea.Cmd) {
	d.t.Helper()
	d.run(cmd)
	d.drain()
}

func (d *driver) drain() {
	d.t.Helper()
	for n := 0; len(d.queue) > 0; n++ {
		if n > 10000 {
			d.t.Fatal("the model keeps sending itself messages")
		}
		msg := d.queue[0]
		d.queue = d.queue[1:]
		_, cmd := d.m.Update(msg)
		d.run(cmd)
	}
}

var cmdType = reflect.TypeFor[tea.Cmd]()

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	msg := cmd()
	// Codes go out behind the screen; the driver lets them arrive before
	// the screen hears back, as they would from a quick mail server.
	d.h.Settle()
	switch msg.(type) {
	case nil:
		return
	case tea.QuitMsg:
		d.quit = true
		return
	case tickMsg:
		return
	}
	// tea.BatchMsg and tea.Sequence's unexported message are both slices of
	// commands; running them in order keeps the sequence's order.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		for i := range v.Len() {
			d.run(v.Index(i).Interface().(tea.Cmd))
		}
		return
	}
	d.queue = append(d.queue, msg)
}

// keyMsg builds a key press from its name: "enter", "ctrl+c", "a".
func keyMsg(name string) tea.KeyPressMsg {
	special := map[string]rune{"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"backspace": tea.KeyBackspace, "home": tea.KeyHome, "end": tea.KeyEnd, "delete": tea.KeyDelete}
	if name == "shift+tab" {
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	if name == "space" {
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	if r, ok := special[name]; ok {
		return tea.KeyPressMsg{Code: r}
	}
	if rest, ok := strings.CutPrefix(name, "ctrl+"); ok && utf8.RuneCountInString(rest) == 1 {
		r, _ := utf8.DecodeRuneInString(rest)
		return tea.KeyPressMsg{Code: r, Mod: tea.ModCtrl}
	}
	r, _ := utf8.DecodeRuneInString(name)
	return tea.KeyPressMsg{Code: r, Text: name}
}

// keys presses named keys in turn.
func (d *driver) keys(names ...string) {
	d.t.Helper()
	for _, n := range names {
		d.send(keyMsg(n))
	}
}

// typeText types text one key at a time, as a person would.
func (d *driver) typeText(s string) {
	d.t.Helper()
	for _, r := range s {
		if r == ' ' {
			d.send(tea.KeyPressMsg{Code: tea.KeySpace, Text: " "})
			continue
		}
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func (d *driver) paste(s string) {
	d.t.Helper()
	d.send(tea.PasteMsg{Content: s})
}

// clear empties the focused field.
func (d *driver) clear() {
	d.t.Helper()
	d.send(keyMsg("ctrl+u"), keyMsg("ctrl+k"))
}

// tick advances the fake clock and lets the model see the time.
func (d *driver) tick(by time.Duration) {
	d.t.Helper()
	d.h.Clock.Advance(by)
	d.send(tickMsg(time.Now()))
}

func (d *driver) resize(w, h int) {
	d.t.Helper()
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
}

// view is the rendered screen without styling.
func (d *driver) view() string {
	d.t.Helper()
	raw := d.m.View().Content
	assertSafe(d.t, raw)
	return ansi.Strip(raw)
}

// words is the view with runs of white space collapsed, so text wrapped
// over lines can be searched for.
func (d *driver) words() string {
	return strings.Join(strings.Fields(stripPanel(d.view())), " ")
}

// stripPanel keeps the main screen: everything left of the demo outbox,
// whose top corner marks its column.
func stripPanel(v string) string {
	lines := strings.Split(v, "\n")
	col := -1
	for _, l := range lines {
		if i := strings.Index(l, "╭"); i >= 0 {
			col = utf8.RuneCountInString(l[:i])
			break
		}
	}
	if col < 0 {
		return v
	}
	for i, l := range lines {
		if r := []rune(l); len(r) > col {
			lines[i] = string(r[:col])
		}
	}
	return strings.Join(lines, "\n")
}

func (d *driver) see(want ...string) {
	d.t.Helper()
	w := d.words()
	for _, s := range want {
		s = d.inVisitLanguage(s)
		// A translated sentence may hold no-break spaces, or wrap where
		// its language has no spaces: compare without any.
		if !strings.Contains(w, s) && !strings.Contains(withoutSpace(w), withoutSpace(s)) {
			d.t.Fatalf("screen %T does not show %q:\n%s", d.m.top(), s, d.view())
		}
	}
}

// withoutSpace is text with every space and line break taken out.
func withoutSpace(s string) string { return strings.Join(strings.Fields(s), "") }

func (d *driver) notSee(unwanted ...string) {
	d.t.Helper()
	w := d.words()
	for _, s := range unwanted {
		s = d.inVisitLanguage(s)
		if strings.Contains(w, s) {
			d.t.Fatalf("screen %T shows %q:\n%s", d.m.top(), s, d.view())
		}
	}
}

// at fails unless the current screen has type T.
func at[T screen](d *driver) T {
	d.t.Helper()
	s, ok := d.m.top().(T)
	if !ok {
		var zero T
		d.t.Fatalf("on %T, want %T:\n%s", d.m.top(), zero, d.view())
	}
	return s
}

// assertSafe fails when a rendered view holds anything a terminal would act
// on besides SGR colours and line feeds: other escape sequences, C0 and C1
// controls, DEL, bidi controls, invalid UTF-8; or anything it would not
// show: invisible characters, piles of combining marks.
func assertSafe(t testing.TB, view string) {
	t.Helper()
	if msg := unsafeIn(view); msg != "" {
		t.Fatalf("%s in view:\n%q", msg, view)
	}
}

// sgr matches the colour and attribute sequences lip gloss writes.
var sgr = regexp.MustCompile("\x1b\\[[0-9;:]*m")

func unsafeIn(view string) string {
	s := sgr.ReplaceAllString(view, "")
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == '\n':
		case r < 0x20 || r == 0x7f:
			return "control character " + strconvQuote(r)
		case r >= 0x80 && r <= 0x9f:
			return "C1 control " + strconvQuote(r)
		case r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return "bidi control " + strconvQuote(r)
		case r == utf8.RuneError:
			return "replacement character"
		}
	}
	for _, line := range strings.Split(s, "\n") {
		if _, r, why := invisible.Find(line); why != invisible.Seen {
			return why.String() + " " + strconvQuote(r)
		}
	}
	return ""
}

func strconvQuote(r rune) string { return strconv.QuoteRune(r) }

// findSecret walks everything the root model can reach (screens, inputs,
// journeys) and reports where a secret is held. The flows service is left
// out: it is shared, not part of any screen.
func findSecret(m *Model, secrets ...string) string {
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value, path string) string
	svcType := reflect.TypeFor[*flows.Service]()
	walk = func(v reflect.Value, path string) string {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return ""
			}
			if v.Type() == svcType {
				return ""
			}
			if v.Kind() == reflect.Pointer {
				if seen[v.Pointer()] {
					return ""
				}
				seen[v.Pointer()] = true
			}
			return walk(v.Elem(), path)
		case reflect.Struct:
			if v.Type().PkgPath() == "context" {
				return ""
			}
			for i := range v.NumField() {
				if p := walk(v.Field(i), path+"."+v.Type().Field(i).Name); p != "" {
					return p
				}
			}
		case reflect.Slice, reflect.Array:
			if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Int32 {
				rs := make([]rune, v.Len())
				for i := range rs {
					rs[i] = rune(v.Index(i).Int())
				}
				return match(string(rs), path, secrets)
			}
			if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
				return match(string(v.Bytes()), path, secrets)
			}
			for i := range v.Len() {
				if p := walk(v.Index(i), path+"[]"); p != "" {
					return p
				}
			}
		case reflect.Map:
			it := v.MapRange()
			for it.Next() {
				if p := walk(it.Key(), path+"{k}"); p != "" {
					return p
				}
				if p := walk(it.Value(), path+"{v}"); p != "" {
					return p
				}
			}
		case reflect.String:
			return match(v.String(), path, secrets)
		}
		return ""
	}
	return walk(reflect.ValueOf(m), "Model")
}

func match(s, path string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			return path + " holds " + sec
		}
	}
	return ""
}
