package tui

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/components"
)

// pinnedScreen is one row of TestGoldenEveryScreen: a screen as a person
// reaches it at 80×24, and either how to open it here or the golden of the
// test that already pins it.
type pinnedScreen struct {
	name string
	// want is a nil pointer of the screen's type, or of the panel tab's.
	want any
	// by is the golden, under testdata without ".golden", of another test
	// that pins this screen at 80×24; open is then nil.
	by   string
	open func(t *testing.T) *driver
	// random lists what differs from run to run on the screen (keys,
	// codes, the QR code's rows) and is as wide every time, to mask with
	// #; each must be on the screen.
	random func(d *driver) []string
	// worded lists words that differ from run to run in width too, to
	// mask with a fixed word.
	worded func(d *driver) []string
}

// pinnedScreens lists every screen of the TUI, with the panel's tabs and
// the states of a screen that look different, each pinned by a golden.
func pinnedScreens() []pinnedScreen { return pinnedScreensIn("") }

// pinnedScreensIn is pinnedScreens with every visit starting in a language
// ("" for the default): the same steps open each screen in any language.
func pinnedScreensIn(lang string) []pinnedScreen {
	person := func(t *testing.T) (*harness, *driver) {
		h := newHarness(t)
		return h, newDriver(t, h, Options{Mode: ModeKiosk, IdleTimeout: 120 * time.Second,
			DoneTimeout: 30 * time.Second, Language: lang})
	}
	admin := func(t *testing.T) (*harness, *driver) {
		h := newHarness(t)
		return h, panelDriver(t, h, Options{Mode: ModeKiosk, Language: lang})
	}
	// register opens erin's security info, where nothing is set up yet,
	// chooses an item and presses keys.
	register := func(item string, keys ...string) func(t *testing.T) *driver {
		return func(t *testing.T) *driver {
			_, d := person(t)
			d.signIn(3, "erin")
			d.chooseItem(item)
			d.keys(keys...)
			return d
		}
	}
	// wrongPassword signs in as alice with a password that is not hers.
	wrongPassword := func(d *driver) {
		d.keys("2")
		d.typeText("alice")
		d.keys("enter")
		d.typeText("not the password")
		d.keys("enter")
	}
	return []pinnedScreen{
		{name: "welcome", want: (*welcome)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			return d
		}},
		{name: "identify", want: (*identify)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.keys("enter")
			d.typeText("alice")
			return d
		}},
		{name: "identify idle countdown", want: (*identify)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.keys("enter")
			d.tick(110 * time.Second)
			return d
		}},
		{name: "welcome notice", want: (*welcome)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.send(NoticeMsg{Text: "The portal restarts at 18:00 for an update."})
			return d
		}},
		{name: "welcome every key", want: (*welcome)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.keys("?")
			return d
		}},
		{name: "language picker", want: (*languagePicker)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.keys("l")
			return d
		}},
		{name: "sign in", want: (*signIn)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.keys("2")
			d.typeText("alice")
			d.keys("enter")
			return d
		}},
		{name: "sign in refused", want: (*signIn)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			wrongPassword(d)
			return d
		}},
		{name: "sign in paced", want: (*signIn)(nil), open: func(t *testing.T) *driver {
			h, d := person(t)
			for i := range flows.SourceSlowAfter {
				_, _ = h.Svc.SignIn(context.Background(), fmt.Sprintf("visitor%d", i), "wrong password", "kiosk:test")
			}
			wrongPassword(d)
			return d
		}},
		{name: "method picker", want: (*methods)(nil), by: "TestGoldenREADME/method_picker"},
		{name: "method picker second step", want: (*methods)(nil), by: "TestVoucherOnlySecondStepExplained"},
		{name: "method picker ssh key", want: (*methods)(nil), by: "TestSSHKeyAtReset"},
		{name: "code entry email", want: (*codeEntry)(nil), by: "TestGoldenREADME/code_entry"},
		{name: "code entry wrong code", want: (*codeEntry)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.startReset("alice")
			d.sendEmailCode()
			d.typeText("00000000")
			d.keys("enter")
			return d
		}},
		{name: "code entry code resent", want: (*codeEntry)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.startReset("alice")
			d.sendEmailCode()
			d.tick(30 * time.Second)
			d.keys("ctrl+r")
			return d
		}},
		{name: "code entry code expired", want: (*codeEntry)(nil), open: func(t *testing.T) *driver {
			// Without the idle wipe, which would come first.
			d := newDriver(t, newHarness(t), Options{Mode: ModeKiosk, Language: lang})
			d.startReset("alice")
			d.sendEmailCode()
			d.tick(10 * time.Minute)
			return d
		}},
		{name: "code entry text message", want: (*codeEntry)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.startReset("carol")
			d.chooseItem("Text me a code")
			return d
		}},
		{name: "code entry authenticator", want: (*codeEntry)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.startReset("bob")
			d.chooseItem("Use my authenticator app")
			return d
		}},
		{name: "code entry recovery code", want: (*codeEntry)(nil), open: func(t *testing.T) *driver {
			h, d := person(t)
			withRecoveryCodes(t, h, "erin")
			d.startReset("erin")
			d.chooseItem("Use a recovery code")
			return d
		}},
		{name: "code entry voucher", want: (*codeEntry)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.startReset("alice")
			d.chooseItem("I have a helpdesk voucher")
			return d
		}},
		{name: "security questions at reset", want: (*answerQuestions)(nil), open: func(t *testing.T) *driver {
			h, d := person(t)
			h.SetPolicy(t, "methods_allowed", "email,sms,questions")
			info, err := h.Svc.SignIn(context.Background(), "carol", testPassword, "seed")
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Svc.RegisterQuestions(context.Background(), info.ID, []flows.QuestionAnswer{
				{Question: "What was the name of your first pet?", Answer: "rex rex"},
				{Question: "In what city were you born?", Answer: "springfield"},
				{Question: "What was your first car?", Answer: "a blue one"}}); err != nil {
				t.Fatal(err)
			}
			h.Svc.SignOut(info.ID)
			h.SetPolicy(t, "methods_required", "2")
			d.startReset("carol")
			d.chooseItem("Email me a code")
			d.typeText(h.Inbox.LastCode(t, "carol@example.com"))
			d.keys("enter")
			d.chooseItem("Answer my security questions")
			d.typeText("rex")
			return d
		}, worded: func(d *driver) []string {
			return at[*answerQuestions](d).qs // drawn in a random order
		}},
		{name: "new password", want: (*newPassword)(nil), by: "TestGoldenREADME/new_password"},
		{name: "new password rules unmet", want: (*newPassword)(nil), by: "TestGoldenNewPasswordRefused/80x24"},
		{name: "new password expired", want: (*newPassword)(nil), by: "TestExpiredPasswordForcesChange"},
		{name: "expiry prompt", want: (*expiryPrompt)(nil), by: "TestExpiryBannerAfterSignIn"},
		{name: "new password leave question", want: (*newPassword)(nil), by: "TestNewPasswordEscAsks"},
		{name: "done", want: (*done)(nil), by: "TestDoneShowsHelpdesk"},
		{name: "done registration follows", want: (*done)(nil), by: "TestRegistrationAfterVoucherReset"},
		{name: "dead end", want: (*deadEndScreen)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.startReset("dave")
			return d
		}},
		{name: "identify unlock", want: (*identify)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.chooseItem("Unlock my account")
			d.typeText("alice")
			return d
		}},
		{name: "unlocked", want: (*unlocked)(nil), open: func(t *testing.T) *driver {
			h, d := person(t)
			h.lockOut(t, "alice")
			d.startUnlock("alice")
			d.proveEmail("alice@example.com")
			return d
		}},
		{name: "unlocked not locked", want: (*unlocked)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.startUnlock("alice")
			d.proveEmail("alice@example.com")
			return d
		}},
		{name: "security info", want: (*overview)(nil), by: "TestGoldenREADME/security_info"},
		{name: "security info registration required", want: (*overview)(nil), by: "TestForcedRegistrationNoDone"},
		{name: "security info question", want: (*overview)(nil), open: func(t *testing.T) *driver {
			h, d := person(t)
			withRecoveryCodes(t, h, "alice")
			d.signIn(3, "alice")
			d.chooseItem("Get new recovery codes")
			return d
		}},
		{name: "security info leave with registration due", want: (*overview)(nil), open: func(t *testing.T) *driver {
			_, d := person(t)
			d.signIn(3, "erin")
			d.keys("esc")
			return d
		}},
		{name: "register email address", want: (*registerContact)(nil), open: register("Add email address")},
		{name: "register email address code sent", want: (*registerContact)(nil), open: register("Add email address", "enter")},
		{name: "register mobile number", want: (*registerContact)(nil), open: register("Add mobile number")},
		{name: "authenticator QR code", want: (*enrolAuthenticator)(nil), open: register("Add authenticator app"), random: func(d *driver) []string {
			return strings.Split(at[*enrolAuthenticator](d).qr, "\n")
		}},
		{name: "authenticator key to type", want: (*enrolAuthenticator)(nil), open: register("Add authenticator app", "tab"), random: func(d *driver) []string {
			return enrolmentSecrets(at[*enrolAuthenticator](d))
		}},
		{name: "recovery codes", want: (*recoveryCodes)(nil), open: register("Get recovery codes"), random: func(d *driver) []string {
			return at[*recoveryCodes](d).codes
		}},
		{name: "register security questions", want: (*registerQuestions)(nil), by: "TestQuestionsFormGolden"},
		{name: "ssh keys connected key", want: (*sshKeys)(nil), by: "TestSSHKeysScreen/connected"},
		{name: "ssh keys one key", want: (*sshKeys)(nil), by: "TestSSHKeysScreen/one_key"},
		{name: "ssh keys paste refused", want: (*sshKeys)(nil), by: "TestSSHKeysScreen/paste_refused"},

		{name: "admin policy list", want: (*policyTab)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			return d
		}},
		{name: "admin policy change question", want: (*policyTab)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			panelEditPolicy(d, policy.KeyHelpdeskContact, "it@example.com")
			d.keys("enter")
			return d
		}},
		{name: "admin policy editor", want: (*policyTab)(nil), by: "TestPolicyEditorShowsWholeValue"},
		{name: "admin users", want: (*usersTab)(nil), by: "TestGoldenREADME/admin_users"},
		{name: "admin users search", want: (*usersTab)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			d.keys("2", "/")
			d.typeText("car")
			return d
		}},
		{name: "admin user actions", want: (*usersTab)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			panelSearch(d, "carol")
			d.keys("enter")
			return d
		}},
		{name: "admin user remove which method", want: (*usersTab)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			panelAct(d, "carol", "Remove a method…")
			return d
		}},
		{name: "admin user action question", want: (*usersTab)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			panelAct(d, "alice", "Issue a helpdesk voucher")
			return d
		}},
		{name: "admin voucher", want: (*usersTab)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			panelAct(d, "alice", "Issue a helpdesk voucher")
			d.keys("y")
			return d
		}, random: func(d *driver) []string {
			v := panelOf(d).tabs[1].(*usersTab).at.shownVoucher()
			groups, _ := v.ReadOut()
			return append([]string{v.Code}, groups...)
		}, worded: func(d *driver) []string {
			_, spoken := panelOf(d).tabs[1].(*usersTab).at.shownVoucher().ReadOut()
			return spoken
		}},
		{name: "admin audit", want: (*auditTab)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			d.keys("3")
			return d
		}},
		{name: "admin audit filter", want: (*auditTab)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			d.keys("3", "/")
			d.typeText("alice")
			return d
		}},
		{name: "admin audit detail", want: (*auditDetail)(nil), by: "TestGoldenAuditDetail/80x24"},
		{name: "admin insights", want: (*insightsTab)(nil), by: "TestGoldenREADME/admin_insights"},
		{name: "admin blocks", want: (*blocksTab)(nil), by: "TestBlocksTabGolden"},
		{name: "admin blocks clear question", want: (*blocksTab)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			d.keys("5", "enter")
			return d
		}},
		{name: "admin blocks empty", want: (*blocksTab)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			d.keys("5", "enter", "y")
			return d
		}},
		{name: "admin help", want: (*usersTab)(nil), by: "TestGoldenAdminHelp/80x24"},
		{name: "admin leave kiosk", want: (*adminHome)(nil), open: func(t *testing.T) *driver {
			_, d := admin(t)
			d.keys("esc")
			return d
		}},
	}
}

// withRecoveryCodes gives an account recovery codes, as if the person had
// got them earlier.
func withRecoveryCodes(t *testing.T, h *harness, name string) {
	t.Helper()
	ctx := context.Background()
	info, err := h.Svc.SignIn(ctx, name, testPassword, "seed")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.NewRecoveryCodes(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	h.Svc.SignOut(info.ID)
}

// enrolmentSecrets is what the key-to-type view shows of a new
// authenticator key: the key in groups, and the key in the link.
func enrolmentSecrets(s *enrolAuthenticator) []string {
	return []string{components.GroupSecret(s.enr.Secret), s.enr.Secret}
}

// shownAs is what is on screen: the screen's type and, on the panel, the
// tab's and the open audit entry's.
func shownAs(d *driver) []reflect.Type {
	s := d.m.top()
	out := []reflect.Type{reflect.TypeOf(s)}
	if p, ok := s.(*adminHome); ok {
		tab := p.tabs[p.tab]
		out = append(out, reflect.TypeOf(tab))
		if a, ok := tab.(*auditTab); ok && a.detail != nil {
			out = append(out, reflect.TypeOf(a.detail))
		}
	}
	return out
}

// masked replaces each value on the screen with what by gives for it,
// and fails when one is not on the screen: a random value would then reach
// the golden. A value that ends in blanks (a row of the QR code) may end
// its screen line, where the blanks are trimmed; it is masked to its whole
// width there too.
func masked(t *testing.T, values []string, by func(v string) string) func(string) string {
	return func(screen string) string {
		values := slices.Clone(values)
		// Longest first: a shorter value can be part of a longer one.
		slices.SortFunc(values, func(a, b string) int {
			return len(strings.TrimRight(b, " ")) - len(strings.TrimRight(a, " "))
		})
		lines := strings.Split(screen, "\n")
		for _, v := range values {
			trimmed := strings.TrimRight(v, " ")
			if trimmed == "" {
				continue // blanks hide nothing
			}
			found := false
			for i, l := range lines {
				switch {
				case strings.Contains(l, v):
					lines[i] = strings.ReplaceAll(l, v, by(v))
				case strings.HasSuffix(l, trimmed):
					lines[i] = strings.TrimSuffix(l, trimmed) + by(v)
				default:
					continue
				}
				found = true
			}
			if !found {
				t.Fatalf("%q is not on the screen to mask:\n%s", v, screen)
			}
		}
		return strings.Join(lines, "\n")
	}
}

// hashesOfWidth masks a value with # as wide as it is.
func hashesOfWidth(v string) string { return strings.Repeat("#", ansi.StringWidth(v)) }

// wordsMasked masks words whose width differs from run to run.
func wordsMasked(string) string { return "(words)" }

// TestGoldenEveryScreen pins every screen of the TUI at 80×24 through the
// ASCII colour profile, one row per screen and state: either here, in
// testdata/TestGoldenEveryScreen, or by the golden of the test named in
// the row. go test -run TestGoldenEveryScreen -update rewrites the ones
// pinned here.
func TestGoldenEveryScreen(t *testing.T) {
	rows := pinnedScreens()
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if r.by != "" {
				if _, err := os.Stat(filepath.Join("testdata", r.by+".golden")); err != nil {
					t.Fatalf("pinned by %s: %v", r.by, err)
				}
				return
			}
			d := r.open(t)
			if d.m.width != 80 || d.m.height != 24 {
				t.Fatalf("the window is %d×%d, want 80×24", d.m.width, d.m.height)
			}
			want := reflect.TypeOf(r.want)
			if got := shownAs(d); !slices.Contains(got, want) {
				t.Fatalf("on %v, want %v:\n%s", got, want, d.view())
			}
			var masks []func(string) string
			if r.random != nil {
				masks = append(masks, masked(t, r.random(d), hashesOfWidth))
			}
			if r.worded != nil {
				masks = append(masks, masked(t, r.worded(d), wordsMasked))
			}
			screenGolden(t, d, masks...)
		})
	}
}

// TestEveryScreenHasARow: every type in this package that draws a screen
// body or a panel tab (a view(width int) string method) has a row in
// TestGoldenEveryScreen, so a new screen cannot go unpinned; and every
// golden of TestGoldenEveryScreen has its row, so none is left behind
// unchecked when a row goes.
func TestEveryScreenHasARow(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join("testdata", "TestGoldenEveryScreen", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	opened := map[string]bool{}
	for _, r := range pinnedScreens() {
		if r.open != nil {
			opened[strings.ReplaceAll(r.name, " ", "_")+".golden"] = true
		}
	}
	for _, g := range goldens {
		if !opened[filepath.Base(g)] {
			t.Errorf("%s has no row in TestGoldenEveryScreen", g)
		}
	}
	if len(goldens) != len(opened) {
		t.Errorf("%d goldens for %d rows that open their screen", len(goldens), len(opened))
	}

	drawn := viewTypes(t)
	if len(drawn) < 10 {
		t.Fatalf("found only %v: the search for screens is broken", drawn)
	}
	rowed := map[string]bool{}
	for _, r := range pinnedScreens() {
		rowed[reflect.TypeOf(r.want).Elem().Name()] = true
	}
	for _, name := range drawn {
		if !rowed[name] {
			t.Errorf("%s draws a screen and has no row in TestGoldenEveryScreen", name)
		}
	}
}

// viewTypes names the receivers of the package's view(width int) string
// methods, read from the source.
func viewTypes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "view" || len(fn.Type.Params.List) != 1 {
				continue
			}
			if p, ok := fn.Type.Params.List[0].Type.(*ast.Ident); !ok || p.Name != "int" {
				continue
			}
			star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
			if !ok {
				t.Fatalf("%s: view on a value receiver", fset.Position(fn.Pos()))
			}
			names = append(names, fmt.Sprint(star.X))
		}
	}
	slices.Sort(names)
	return names
}
