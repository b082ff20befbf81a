package policy

import (
	"github.com/sspr-kiosk/sspr/flows/locale"

	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/storetest"
)

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, _ := storetest.Open(t)
	return db
}

func TestDefaults(t *testing.T) {
	p := Defaults()
	if err := p.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	want := map[string]string{
		"enabled_for":                  "all",
		"enabled_group":                "",
		"methods_required":             "1",
		"methods_allowed":              "email,sms,authenticator,recovery_codes,voucher",
		"questions_to_register":        "3",
		"questions_to_answer":          "3",
		"require_registration":         "true",
		"reconfirm_days":               "180",
		"notify_users_on_reset":        "true",
		"notify_admins_on_admin_reset": "true",
		"helpdesk_contact":             "",
		"password_min_length":          "12",
		"password_history":             "5",
		"password_min_strength":        "3",
		"banned_words":                 "",
		"allow_unlock":                 "true",
		"lockout_threshold":            "10",
		"lockout_duration":             "15m",
		"password_max_age_days":        "0",
		"expiry_reminder_days":         "14,7,3,1",
	}
	if len(Keys()) != len(want) {
		t.Fatalf("Keys() has %d keys, want %d", len(Keys()), len(want))
	}
	for _, k := range Keys() {
		if got := p.Get(k); got != want[k] {
			t.Errorf("default %s = %q, want %q", k, got, want[k])
		}
	}
	if p.Allows(Questions) {
		t.Error("security questions are allowed by default")
	}
	if !p.Allows(Email) {
		t.Error("email is not allowed by default")
	}
}

func TestKeysOrder(t *testing.T) {
	want := []string{"enabled_for", "enabled_group", "methods_required", "methods_allowed",
		"questions_to_register", "questions_to_answer", "require_registration", "reconfirm_days",
		"notify_users_on_reset", "notify_admins_on_admin_reset", "helpdesk_contact",
		"password_min_length", "password_history", "password_min_strength", "banned_words",
		"allow_unlock", "lockout_threshold", "lockout_duration", "password_max_age_days", "expiry_reminder_days"}
	if !slices.Equal(Keys(), want) {
		t.Fatalf("Keys() = %v", Keys())
	}
}

func TestMethods(t *testing.T) {
	labels := map[Method]string{
		Email: "Email code", SMS: "Text message code", Authenticator: "Authenticator app",
		RecoveryCodes: "Recovery code", Voucher: "Helpdesk voucher", Questions: "Security questions", SSHKey: "SSH key",
	}
	if len(AllMethods()) != len(labels) {
		t.Fatalf("AllMethods() = %v", AllMethods())
	}
	for _, m := range AllMethods() {
		if locale.Embedded().Source().T(m.Label()) != labels[m] {
			t.Errorf("%s.Label() = %q", m, m.Label())
		}
		got, err := ParseMethod(" " + strings.ToUpper(string(m)) + " ")
		if err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %q, %v", m, got, err)
		}
	}
	if _, err := ParseMethod("carrier_pigeon"); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("ParseMethod(carrier_pigeon) error = %v, want ErrInvalidValue", err)
	}
}

func TestSetBoundaries(t *testing.T) {
	tests := []struct {
		key, value string
		ok         bool
		want       string // canonical value after a successful Set
	}{
		{"enabled_for", "none", true, "none"},
		{"enabled_for", "group", true, "group"},
		{"enabled_for", " ALL ", true, "all"},
		{"enabled_for", "some", false, ""},
		{"enabled_for", "", false, ""},

		{"enabled_group", "staff", true, "staff"},
		{"enabled_group", "", true, ""},
		{"enabled_group", strings.Repeat("g", 100), true, strings.Repeat("g", 100)},
		{"enabled_group", strings.Repeat("g", 101), false, ""},
		{"enabled_group", "staff\x1b[31m", false, ""},

		{"methods_required", "1", true, "1"},
		{"methods_required", "2", true, "2"},
		{"methods_required", "0", false, ""},
		{"methods_required", "3", false, ""},
		{"methods_required", "two", false, ""},

		{"methods_allowed", "email", true, "email"},
		{"methods_allowed", "questions, EMAIL ,email,sms", true, "email,sms,questions"},
		{"methods_allowed", "email,,", true, "email"},
		{"methods_allowed", "", false, ""},
		{"methods_allowed", " , ", false, ""},
		{"methods_allowed", "email,fax", false, ""},

		{"questions_to_register", "3", true, "3"},
		{"questions_to_register", "5", true, "5"},
		{"questions_to_register", "2", false, ""},
		{"questions_to_register", "6", false, ""},
		{"questions_to_answer", "3", true, "3"},
		{"questions_to_answer", "5", true, "5"},
		{"questions_to_answer", "2", false, ""},
		{"questions_to_answer", "6", false, ""},

		{"require_registration", "true", true, "true"},
		{"require_registration", "FALSE", true, "false"},
		{"require_registration", "yes", false, ""},
		{"require_registration", "", false, ""},

		{"reconfirm_days", "0", true, "0"},
		{"reconfirm_days", "730", true, "730"},
		{"reconfirm_days", "731", false, ""},
		{"reconfirm_days", "-1", false, ""},
		{"reconfirm_days", "abc", false, ""},
		{"reconfirm_days", "1.5", false, ""},

		{"notify_users_on_reset", "false", true, "false"},
		{"notify_users_on_reset", "1", false, ""},
		{"notify_admins_on_admin_reset", "false", true, "false"},
		{"notify_admins_on_admin_reset", "nope", false, ""},

		{"helpdesk_contact", "", true, ""},
		{"helpdesk_contact", "helpdesk@example.org", true, "helpdesk@example.org"},
		{"helpdesk_contact", "https://help.example.org/reset", true, "https://help.example.org/reset"},
		{"helpdesk_contact", "http://intranet/help", true, "http://intranet/help"},
		{"helpdesk_contact", "call 555-1234", false, ""},
		{"helpdesk_contact", "Helpdesk <helpdesk@example.org>", false, ""},
		{"helpdesk_contact", "ftp://example.org", false, ""},
		{"helpdesk_contact", "https://", false, ""},
		{"helpdesk_contact", "https://user:pw@example.org", false, ""},
		{"helpdesk_contact", "javascript:alert(1)", false, ""},
		{"helpdesk_contact", "help@example.org\r\nBcc: x@y", false, ""},
		{"helpdesk_contact", "https://example.org/\u202eevil", false, ""},
		{"helpdesk_contact", "https://example.org/" + strings.Repeat("a", 200), false, ""},

		{"password_min_length", "8", true, "8"},
		{"password_min_length", "64", true, "64"},
		{"password_min_length", "7", false, ""},
		{"password_min_length", "65", false, ""},
		{"password_history", "0", true, "0"},
		{"password_history", "24", true, "24"},
		{"password_history", "-1", false, ""},
		{"password_history", "25", false, ""},
		{"password_min_strength", "0", true, "0"},
		{"password_min_strength", "4", true, "4"},
		{"password_min_strength", "5", false, ""},
		{"password_min_strength", "-1", false, ""},

		{"banned_words", "", true, ""},
		{"banned_words", " Acme ,acme, Widget,,SUMMER", true, "acme,summer,widget"},
		{"banned_words", "ab", false, ""},
		{"banned_words", strings.Repeat("w", 65), false, ""},
		{"banned_words", "acme\tcorp", false, ""},

		{"allow_unlock", "FALSE", true, "false"},
		{"allow_unlock", "no", false, ""},
		{"lockout_threshold", "3", true, "3"},
		{"lockout_threshold", "50", true, "50"},
		{"lockout_threshold", "2", false, ""},
		{"lockout_threshold", "51", false, ""},
		{"lockout_duration", "1m", true, "1m"},
		{"lockout_duration", "90m", true, "1h30m"},
		{"lockout_duration", "24H", true, "24h"},
		{"lockout_duration", "60m0s", true, "1h"},
		{"lockout_duration", "30s", false, ""},
		{"lockout_duration", "90s", false, ""},
		{"lockout_duration", "24h1m", false, ""},
		{"lockout_duration", "15", false, ""},
		{"lockout_duration", "-5m", false, ""},
	}
	for _, tt := range tests {
		p := Defaults()
		before := p.Get(tt.key)
		err := p.Set(tt.key, tt.value)
		if tt.ok {
			if err != nil {
				t.Errorf("Set(%s, %q) = %v, want ok", tt.key, tt.value, err)
				continue
			}
			if got := p.Get(tt.key); got != tt.want {
				t.Errorf("after Set(%s, %q) Get = %q, want %q", tt.key, tt.value, got, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidValue) {
			t.Errorf("Set(%s, %q) = %v, want ErrInvalidValue", tt.key, tt.value, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, Label(tt.key)) {
			t.Errorf("Set(%s, %q) error %q should be one sentence naming the setting", tt.key, tt.value, msg)
		}
		if got := p.Get(tt.key); got != before {
			t.Errorf("failed Set(%s, %q) changed the value to %q", tt.key, tt.value, got)
		}
	}
}

func TestSetMessages(t *testing.T) {
	p := Defaults()
	for _, tt := range []struct{ key, value, msg string }{
		{"reconfirm_days", "731", "days before re-confirm must be 0–730"},
		{"methods_required", "3", "methods required must be 1 or 2"},
		{"helpdesk_contact", "call us", "helpdesk contact must be an email address or an http(s) URL"},
		{"enabled_group", "a\x00b", "enabled group must not contain control characters"},
	} {
		if err := p.Set(tt.key, tt.value); err == nil || err.Error() != tt.msg {
			t.Errorf("Set(%s, %q) = %v, want %q", tt.key, tt.value, err, tt.msg)
		}
	}
}

func TestUnknownKey(t *testing.T) {
	p := Defaults()
	err := p.Set("x", "1")
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Set(x) = %v, want ErrUnknownKey", err)
	}
	if errors.Is(err, ErrInvalidValue) {
		t.Error("unknown key also matches ErrInvalidValue")
	}
	want := `unknown policy key "x"; known keys: enabled_for, enabled_group,`
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "expiry_reminder_days") {
		t.Errorf("message = %q", err.Error())
	}
	if err := p.Set("Lockout_Duration", "1h"); !errors.Is(err, ErrUnknownKey) ||
		err.Error() != `unknown policy key "Lockout_Duration"; did you mean lockout_duration?` {
		t.Errorf("a key in the wrong case: %v", err)
	}
	if p.Get("x") != "" {
		t.Error("Get of an unknown key is not empty")
	}
}

func TestValidateCrossField(t *testing.T) {
	tests := []struct {
		name string
		sets [][2]string
		ok   bool
	}{
		{"register equals answer", [][2]string{{"questions_to_answer", "5"}, {"questions_to_register", "5"}}, true},
		{"register below answer", [][2]string{{"questions_to_answer", "4"}, {"questions_to_register", "3"}}, false},
		{"group without a name", [][2]string{{"enabled_for", "group"}}, false},
		{"group with a name", [][2]string{{"enabled_for", "group"}, {"enabled_group", "staff"}}, true},
		{"questions only", [][2]string{{"methods_allowed", "questions"}}, false},
		{"one method and questions", [][2]string{{"methods_allowed", "email,questions"}}, true},
		{"two required, one strong method", [][2]string{{"methods_required", "2"}, {"methods_allowed", "email,questions"}}, false},
		{"two required, two strong methods", [][2]string{{"methods_required", "2"}, {"methods_allowed", "email,authenticator"}}, true},
		{"two required, one method", [][2]string{{"methods_required", "2"}, {"methods_allowed", "sms"}}, false},
		// An SSH key is proved only over the portal with that key: alone, it
		// would leave everyone else with no way at all.
		{"ssh keys only", [][2]string{{"methods_allowed", "ssh_key"}}, false},
		{"ssh keys and questions", [][2]string{{"methods_allowed", "ssh_key,questions"}}, false},
		{"ssh key and email", [][2]string{{"methods_allowed", "email,ssh_key"}}, true},
		{"two required, ssh key and email", [][2]string{{"methods_required", "2"}, {"methods_allowed", "email,ssh_key"}}, true},
	}
	for _, tt := range tests {
		p := Defaults()
		for _, kv := range tt.sets {
			if err := p.Set(kv[0], kv[1]); err != nil {
				t.Fatalf("%s: Set(%s, %s) = %v", tt.name, kv[0], kv[1], err)
			}
		}
		err := p.Validate()
		if tt.ok && err != nil {
			t.Errorf("%s: Validate() = %v, want ok", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidValue", tt.name, err)
		}
	}
}

func TestValidateStructBuiltInCode(t *testing.T) {
	bad := []func(*Policy){
		func(p *Policy) { p.EnabledFor = "ALL" },
		func(p *Policy) { p.MethodsAllowed = nil },
		func(p *Policy) { p.MethodsAllowed = []Method{Email, Email} },
		func(p *Policy) { p.MethodsAllowed = []Method{SMS, Email} },
		func(p *Policy) { p.MethodsAllowed = []Method{"fax"} },
		func(p *Policy) { p.BannedWords = []string{"Acme"} },
		func(p *Policy) { p.BannedWords = []string{"zeta", "acme"} },
		func(p *Policy) { p.PasswordMinLength = 4 },
		func(p *Policy) { p.HelpdeskContact = " help@example.org" },
	}
	for i, mutate := range bad {
		p := Defaults()
		mutate(&p)
		if err := p.Validate(); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("case %d: Validate() = %v, want ErrInvalidValue", i, err)
		}
	}
}

// Diff lists the settings that differ from old to new, in Keys order: the
// tests compare whole policies with it.
func Diff(old, new Policy) []Change {
	var out []Change
	for _, k := range Keys() {
		if o, n := old.Get(k), new.Get(k); o != n {
			out = append(out, Change{Key: k, Old: o, New: n})
		}
	}
	return out
}

// TestDiff: an empty Diff is what the round-trip tests rely on, so it must
// see every setting that differs.
func TestDiff(t *testing.T) {
	old := Defaults()
	if d := Diff(old, old); len(d) != 0 {
		t.Fatalf("Diff of equal policies = %v", d)
	}
	nw := old
	nw.MethodsAllowed = []Method{Email, Authenticator}
	nw.ReconfirmDays = 30
	got := Diff(old, nw)
	want := []Change{
		{Key: "methods_allowed", Old: "email,sms,authenticator,recovery_codes,voucher", New: "email,authenticator"},
		{Key: "reconfirm_days", Old: "180", New: "30"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Diff = %v, want %v", got, want)
	}
}

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)

	p, err := Load(ctx, db)
	if err != nil {
		t.Fatalf("Load of an empty store: %v", err)
	}
	if len(Diff(p, Defaults())) != 0 {
		t.Fatalf("empty store does not load the defaults: %v", Diff(p, Defaults()))
	}

	for _, kv := range [][2]string{
		{"enabled_for", "group"}, {"enabled_group", "staff"}, {"methods_required", "2"},
		{"methods_allowed", "email,authenticator,questions"}, {"questions_to_register", "5"},
		{"questions_to_answer", "4"}, {"require_registration", "false"}, {"reconfirm_days", "0"},
		{"notify_users_on_reset", "false"}, {"notify_admins_on_admin_reset", "false"},
		{"helpdesk_contact", "https://help.example.org"}, {"password_min_length", "16"},
		{"password_history", "24"}, {"password_min_strength", "4"}, {"banned_words", "acme,widget"},
		{"allow_unlock", "false"}, {"lockout_threshold", "5"}, {"lockout_duration", "2h"},
	} {
		if err := p.Set(kv[0], kv[1]); err != nil {
			t.Fatalf("Set(%s, %s): %v", kv[0], kv[1], err)
		}
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := Save(ctx, db, p, at); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := Load(ctx, db)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if d := Diff(p, got); len(d) != 0 {
		t.Fatalf("round trip differs: %v", d)
	}
	stored, err := store.PolicyValues(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(Keys()) {
		t.Errorf("Save wrote %d keys, want every key (%d)", len(stored), len(Keys()))
	}

	// Saving inside a caller's transaction that rolls back leaves nothing.
	changed := got
	changed.ReconfirmDays = 7
	boom := errors.New("boom")
	err = db.WithTx(ctx, func(tx *store.Tx) error {
		if err := Save(ctx, tx, changed, at); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx = %v", err)
	}
	if again, _ := Load(ctx, db); again.ReconfirmDays != 0 {
		t.Errorf("rolled-back save is visible: reconfirm_days = %d", again.ReconfirmDays)
	}
}

func TestSaveRefusesInvalid(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	p := Defaults()
	p.QuestionsToAnswer = 5
	p.QuestionsToRegister = 3
	if err := Save(ctx, db, p, time.Unix(1, 0)); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("Save of an invalid policy = %v", err)
	}
	stored, err := store.PolicyValues(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 0 {
		t.Fatalf("invalid policy was partly written: %v", stored)
	}
}

func TestLoadBadStoredValue(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	if err := store.SetPolicyValue(ctx, db, "reconfirm_days", "9999", 1); err != nil {
		t.Fatal(err)
	}
	if err := store.SetPolicyValue(ctx, db, "password_history", "7", 1); err != nil {
		t.Fatal(err)
	}
	if err := store.SetPolicyValue(ctx, db, "from_a_newer_version", "x", 1); err != nil {
		t.Fatal(err)
	}
	p, err := Load(ctx, db)
	if !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("Load = %v, want ErrInvalidValue", err)
	}
	if p.ReconfirmDays != Defaults().ReconfirmDays || p.PasswordHistory != 7 {
		t.Errorf("Load should keep the default for the bad key and the stored good ones: %+v", p)
	}
	// The repair path: fix the value and save.
	if err := Save(ctx, db, p, time.Unix(2, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, db); err != nil {
		t.Fatalf("Load after repair: %v", err)
	}
}

func TestSetPolicyValueUpdatedAt(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	if err := store.SetPolicyValue(ctx, db, "reconfirm_days", "30", 100); err != nil {
		t.Fatal(err)
	}
	if err := store.SetPolicyValue(ctx, db, "reconfirm_days", "30", 200); err != nil {
		t.Fatal(err)
	}
	at, err := storetest.PolicyUpdatedAt(ctx, db, "reconfirm_days")
	if err != nil {
		t.Fatal(err)
	}
	if at != 100 {
		t.Errorf("saving the same value moved updated_at to %d", at)
	}
	if err := store.SetPolicyValue(ctx, db, "reconfirm_days", "31", 300); err != nil {
		t.Fatal(err)
	}
	if at, err = storetest.PolicyUpdatedAt(ctx, db, "reconfirm_days"); err != nil {
		t.Fatal(err)
	}
	if at != 300 {
		t.Errorf("changing the value left updated_at at %d", at)
	}
}

// TestIsBool checks that exactly the settings that take true and false and
// nothing else are on/off switches.
func TestIsBool(t *testing.T) {
	p := Defaults()
	for _, k := range Keys() {
		takesBool := p.Set(k, "true") == nil && p.Set(k, "false") == nil && p.Set(k, "maybe") != nil
		if IsBool(k) != takesBool {
			t.Errorf("IsBool(%s) = %v, but it takes true and false: %v", k, IsBool(k), takesBool)
		}
	}
}

// FuzzLockoutDuration: whatever is typed, a lockout duration that is
// accepted is whole minutes within the bounds, and prints as a value that
// reads back to itself.
func FuzzLockoutDuration(f *testing.F) {
	for _, s := range []string{"15m", "1h30m", "24h", "0m", "90s", "-1m", "1e3m", "2562047h", "1h60m", " 5M "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		p := Defaults()
		if err := p.Set(KeyLockoutDuration, v); err != nil {
			if !errors.Is(err, ErrInvalidValue) || p.LockoutDuration != Defaults().LockoutDuration {
				t.Fatalf("Set(%q) = %v, leaving %v", v, err, p.LockoutDuration)
			}
			return
		}
		d := p.LockoutDuration
		if d%time.Minute != 0 || d < MinLockoutDuration || d > MaxLockoutDuration {
			t.Fatalf("Set(%q) accepted %v", v, d)
		}
		var q Policy
		if err := q.Set(KeyLockoutDuration, p.Get(KeyLockoutDuration)); err != nil || q.LockoutDuration != d {
			t.Fatalf("%q prints as %q, which reads back as %v, %v", v, p.Get(KeyLockoutDuration), q.LockoutDuration, err)
		}
	})
}

// TestExpirySettings: the maximum age takes 0–730 days, and the reminder
// days are written back longest first without repeats, whatever the order
// typed; an empty list turns reminders off.
func TestExpirySettings(t *testing.T) {
	p := Defaults()
	if p.PasswordMaxAgeDays != 0 || p.ReminderWindow() != 14*24*time.Hour {
		t.Fatalf("defaults: max age %d, window %v", p.PasswordMaxAgeDays, p.ReminderWindow())
	}
	for _, v := range []string{"-1", "731", "x", "1.5"} {
		if err := p.Set(KeyPasswordMaxAgeDays, v); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("max age %q: %v", v, err)
		}
	}
	if err := p.Set(KeyPasswordMaxAgeDays, "90"); err != nil || p.PasswordMaxAgeDays != 90 {
		t.Fatalf("max age 90: %v, %d", err, p.PasswordMaxAgeDays)
	}
	if err := p.Set(KeyExpiryReminderDays, " 1, 30,7 ,7,3"); err != nil {
		t.Fatal(err)
	}
	if got := p.Get(KeyExpiryReminderDays); got != "30,7,3,1" {
		t.Errorf("reminder days = %q, want 30,7,3,1", got)
	}
	for _, v := range []string{"0", "91", "7,x", "1,2,3,4,5,6,7,8,9,10,11"} {
		if err := p.Set(KeyExpiryReminderDays, v); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("reminder days %q: %v", v, err)
		}
	}
	if err := p.Set(KeyExpiryReminderDays, ""); err != nil || p.ReminderWindow() != 0 {
		t.Errorf("empty reminder days: %v, window %v", err, p.ReminderWindow())
	}
	if err := p.Validate(); err != nil {
		t.Errorf("validate: %v", err)
	}
}

// FuzzReminderDays: whatever is typed, expiry_reminder_days is refused or
// kept in its canonical form (descending, unique, 1–90, at most
// MaxReminders), which reads back as itself.
func FuzzReminderDays(f *testing.F) {
	for _, s := range []string{"14,7,3,1", "", "1", " 7 , 7,3", "0", "91", "1,2,3,4,5,6,7,8,9,10,11", "-1", "7,,3", "+5", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		p := Defaults()
		if err := p.Set(KeyExpiryReminderDays, v); err != nil {
			if !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("%q: %v", v, err)
			}
			return
		}
		days := p.ExpiryReminderDays
		if len(days) > MaxReminders {
			t.Fatalf("%q: %d days", v, len(days))
		}
		for i, d := range days {
			if d < 1 || d > MaxReminderDays || i > 0 && d >= days[i-1] {
				t.Fatalf("%q: %v is not canonical", v, days)
			}
		}
		var q Policy
		if err := q.Set(KeyExpiryReminderDays, p.Get(KeyExpiryReminderDays)); err != nil ||
			q.Get(KeyExpiryReminderDays) != p.Get(KeyExpiryReminderDays) {
			t.Fatalf("%q: %q does not read back (%v)", v, p.Get(KeyExpiryReminderDays), err)
		}
	})
}
