// Package flowstest is for tests only: it builds a real flows.Service on a
// temporary SQLite file, with a fake clock, a delivery channel that records
// what it is sent and cheap password hashing, and has the steps tests keep
// needing: add a user, sign in, register an email or an authenticator, read
// a sent code, compute an authenticator code. Only _test.go files import it.
package flowstest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/hooks"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/password"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/secret"
	"github.com/sspr-kiosk/sspr/flows/webhook"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
	"github.com/sspr-kiosk/sspr/store/storetest"
)

// Start is when the fake clock starts unless Options.Start says otherwise.
var Start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Password is the password AddUser gives every user and SignIn signs in with.
const Password = "initial correct horse battery staple"

// Source is where SignIn and StartReset say a request comes from.
const Source = "kiosk-1"

// CheapParams are the argon2id parameters the hasher uses unless
// Options.Params says otherwise, with cheapSlots slots. They keep suites
// fast; the real parameters are tested in the password package.
var CheapParams = password.Params{MemoryKiB: 256, Time: 1, Threads: 1}

const cheapSlots = 4

// Options change how New builds a Harness; the zero Options is the usual
// harness.
type Options struct {
	// Params and Slots make the hasher, as password.NewHasher takes them
	// (Slots 0: one per CPU). Zero Params means CheapParams with 4 slots,
	// whatever Slots says.
	Params password.Params
	Slots  int
	// Start is when the fake clock starts; zero means Start.
	Start time.Time
	// Clock, when set, replaces the fake clock, and Harness.Clock is nil: a
	// test that runs on real timers (an SSH server's) passes clock.Real{}.
	Clock clock.Clock
	// Channels makes the delivery channels from the harness's store and
	// clock; nil sends email and sms to Harness.Inbox.
	Channels func(db *store.DB, clk clock.Clock) map[string]dispatch.Channel
	// Directory is where passwords live; nil keeps them in the store.
	Directory flows.Directory
	// Organisation is the name of the organisation; empty is sspr.
	Organisation string
	// Languages are the service's catalogues (nil: the embedded ones), and
	// Language the organisation's default (ui.language).
	Languages *locale.Catalogue
	Language  string
	// VoucherLifetime is how long vouchers stay valid; zero is the default.
	VoucherLifetime time.Duration
	// KioskLocation and PortalCommand are what messages say about where
	// to change a password.
	KioskLocation, PortalCommand string
	// Faults, when set, hears of the store's, the dispatcher's and the
	// flows' failures, wired as sspr wires its server log.
	Faults *flows.Faults
	// Engine puts the store on an engine whatever SSPR_TEST_STORE says;
	// empty follows it. Tests of what must hold across processes sharing a
	// PostgreSQL store ask for store.Postgres.
	Engine store.Engine
	// DSN, when set, is a PostgreSQL database to use as the store instead
	// of a new one: a store another harness copied there, say, or a
	// pgtest.Cluster's, which the test stops and starts.
	DSN string
	// StatementTimeout is PostgresOptions.StatementTimeout on PostgreSQL.
	StatementTimeout time.Duration
	// Webhooks and WebhookOptions are the service's receivers of events.
	Webhooks       []webhook.Endpoint
	WebhookOptions webhook.Options
	// Hooks and HookReport are the password check and changed programs.
	Hooks      *hooks.Runner
	HookReport bool
	// OnRecord hears each audit entry the service records, as
	// flows.Deps.OnRecord.
	OnRecord func(audit.Entry)
	// Tracer, on PostgreSQL, sees every statement the store sends, for
	// tests and benchmarks that count them.
	Tracer pgx.QueryTracer
	// Dir, when set, is the data directory (its sspr.key and audit
	// checkpoint) instead of a new temporary one: another harness's Dir
	// gives this one the same key.
	Dir string
}

// Harness is a real flows.Service and what it was built from.
type Harness struct {
	Svc *flows.Service
	DB  *store.DB
	// Clock is the fake clock the service reads; nil when Options.Clock
	// replaced it.
	Clock *clock.Fake
	// Inbox receives email and sms unless Options.Channels said otherwise.
	Inbox *Inbox
	// Dispatcher is the service's: DeliverDue sends queued notifications.
	Dispatcher *dispatch.Dispatcher
	Keys       *secret.Keys
	Hasher     *password.Hasher
	// Dir is the data directory: the store and the key file are in it.
	Dir string
	// Admin is the actor the helpers act as where the service asks for one.
	Admin flows.Actor

	clk  clock.Clock
	opts Options
	// loc is where the store is: the SQLite file's path or the PostgreSQL
	// database's DSN.
	loc string
}

// New builds a Harness on a temporary directory that the test removes, with
// at most one Options. The store is closed when the test ends.
func New(t testing.TB, opts ...Options) *Harness {
	t.Helper()
	var o Options
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		t.Fatalf("flowstest.New takes at most one Options, got %d", len(opts))
	}
	ctx := context.Background()
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	db, loc, err := openStore(t, ctx, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, err := secret.LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := &Harness{DB: db, Keys: keys, Dir: dir, opts: o, loc: loc}
	h.clk = o.Clock
	if h.clk == nil {
		start := o.Start
		if start.IsZero() {
			start = Start
		}
		h.Clock = clock.NewFake(start)
		h.clk = h.Clock
	}
	h.build(t)
	return h
}

// Replica builds a second Harness on the same store, as another sspr process
// sharing it would be: its own store handle (its own pool of connections),
// service, dispatcher, hasher and Inbox, with the same key, data directory
// and clock. On SQLite the handle is a second one on the same file.
func (h *Harness) Replica(t testing.TB) *Harness {
	t.Helper()
	ctx := context.Background()
	var db *store.DB
	var err error
	if h.DB.Engine() == store.Postgres {
		db, err = store.OpenPostgres(ctx, h.loc, h.opts.postgres())
	} else {
		db, err = store.OpenWith(ctx, h.loc, store.Options{OnFault: h.opts.Faults.Hook("store")})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &Harness{DB: db, Keys: h.Keys, Dir: h.Dir, Clock: h.Clock, clk: h.clk, opts: h.opts, loc: h.loc}
	r.build(t)
	return r
}

// DSN is the postgres:// URL of the harness's database; empty on SQLite.
func (h *Harness) DSN() string {
	if h.DB.Engine() != store.Postgres {
		return ""
	}
	return h.loc
}

// build makes the service and what it needs around h.DB.
func (h *Harness) build(t testing.TB) {
	t.Helper()
	o, db := h.opts, h.DB
	h.Inbox = &Inbox{}
	h.Admin = flows.Actor{Name: "test", Source: "test"}
	channels := map[string]dispatch.Channel{dispatch.ChannelEmail: h.Inbox, dispatch.ChannelSMS: h.Inbox}
	if o.Channels != nil {
		channels = o.Channels(db, h.clk)
	}
	d := dispatch.New(channels, db, h.clk, dispatch.Options{OnError: o.Faults.Hook("notification queue"),
		OnDeliveryError: o.Faults.Hook("delivery")})
	h.Dispatcher = d
	p, slots := o.Params, o.Slots
	if p == (password.Params{}) {
		p, slots = CheapParams, cheapSlots
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	h.Hasher = password.NewHasher(p, slots)
	var err error
	h.Svc, err = flows.New(flows.Deps{DB: db, Clock: h.clk, Hasher: h.Hasher, Checker: password.NewChecker(),
		Keys: h.Keys, Dispatcher: d, Directory: o.Directory, Faults: o.Faults,
		Organisation: o.Organisation, Languages: o.Languages, Language: o.Language, VoucherLifetime: o.VoucherLifetime,
		AuditCheckpoint: filepath.Join(h.Dir, audit.CheckpointFile), KioskLocation: o.KioskLocation,
		PortalCommand: o.PortalCommand, Webhooks: o.Webhooks, WebhookOptions: o.WebhookOptions,
		Hooks: o.Hooks, HookReport: o.HookReport, OnRecord: o.OnRecord})
	if err != nil {
		t.Fatal(err)
	}
	h.Inbox.settle = h.Settle
	// Registered after the store's Close, so it runs before it: nothing is
	// delivered into a closed store.
	t.Cleanup(h.Settle)
}

// Settle waits until every code the service handed to delivery behind the
// screen has been delivered or has failed, and its failure recorded.
func (h *Harness) Settle() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = h.Svc.WaitDeliveries(ctx)
}

// AddUser creates a user with the password Password, the email address
// name@example.com and a phone number; neither is registered.
func (h *Harness) AddUser(t testing.TB, name string, admin bool) {
	t.Helper()
	_, err := h.Svc.AddUser(context.Background(), h.Admin, flows.NewUser{Username: name, DisplayName: "Test " + name,
		Email: name + "@example.com", Phone: "+15551234567", Admin: admin, Password: Password})
	if err != nil {
		t.Fatal(err)
	}
}

// SignIn signs a user in with Password and returns the session's ID.
func (h *Harness) SignIn(t testing.TB, name string) string {
	t.Helper()
	info, err := h.Svc.SignIn(context.Background(), name, Password, Source)
	if err != nil {
		t.Fatalf("sign in %s: %v", name, err)
	}
	return info.ID
}

// RegisterEmail registers name@example.com for a user through the real
// flow: sign in, send a code, enter it.
func (h *Harness) RegisterEmail(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	sid := h.SignIn(t, name)
	to := name + "@example.com"
	if _, err := h.Svc.BeginContact(ctx, sid, policy.Email, to); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.ConfirmContact(ctx, sid, policy.Email, h.Inbox.LastCode(t, to)); err != nil {
		t.Fatal(err)
	}
}

// RegisterAuthenticator enrols an authenticator for a user through the real
// flow, confirming it with the code for the current time, and returns its
// secret. That code's step is then used: a reset in the same step refuses it.
func (h *Harness) RegisterAuthenticator(t testing.TB, name string) string {
	t.Helper()
	ctx := context.Background()
	sid := h.SignIn(t, name)
	enr, err := h.Svc.BeginAuthenticator(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.ConfirmAuthenticator(ctx, sid, h.TOTP(t, enr.Secret, h.clk.Now())); err != nil {
		t.Fatal(err)
	}
	return enr.Secret
}

// RegisterVerified records a method as an administrator would, without
// sending anything.
func (h *Harness) RegisterVerified(t testing.TB, name string, m policy.Method, value string) {
	t.Helper()
	if err := h.Svc.RegisterVerified(context.Background(), h.Admin, name, m, value); err != nil {
		t.Fatal(err)
	}
}

// StartReset starts a reset for a name from Source.
func (h *Harness) StartReset(t testing.TB, name string) flows.ResetStart {
	t.Helper()
	rs, err := h.Svc.StartReset(context.Background(), name, Source)
	if err != nil {
		t.Fatalf("start reset: %v", err)
	}
	return rs
}

// TOTP returns the authenticator code for a base32 secret at a time, as an
// authenticator app computes it (30-second steps, six digits, SHA-1).
func (h *Harness) TOTP(t testing.TB, secretB32 string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secretB32, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// SetPolicy sets one policy key as Admin.
func (h *Harness) SetPolicy(t testing.TB, key, value string) {
	t.Helper()
	if _, err := h.Svc.SetPolicy(context.Background(), h.Admin, key, value); err != nil {
		t.Fatalf("set %s: %v", key, err)
	}
}

// CountEvents returns how many audit entries record an event.
func (h *Harness) CountEvents(t testing.TB, ev audit.Event) int {
	t.Helper()
	entries, err := audit.List(context.Background(), h.DB, audit.Filter{Events: []audit.Event{ev}})
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// SendCode sends a code for a method of a flow, lets it arrive, and fails
// the test if the send fails.
func (h *Harness) SendCode(t testing.TB, flowID string, m policy.Method) flows.CodeSent {
	t.Helper()
	sent, err := h.Svc.SendCode(context.Background(), flowID, m)
	if err != nil {
		t.Fatalf("send %s code: %v", m, err)
	}
	h.Settle()
	return sent
}

// openStore opens the harness's store: the database Options.DSN names, a
// SQLite file in dir, or with SSPR_TEST_STORE=postgres (storetest.Engine)
// or Options.Engine a fresh PostgreSQL database from pgtest. It returns
// where the store is: the file's path or the database's DSN. A package
// whose tests use the harness runs pgtest.Main from its TestMain, so that
// the cluster is stopped at the end.
func openStore(t testing.TB, ctx context.Context, dir string, o Options) (*store.DB, string, error) {
	engine := o.Engine
	if engine == "" {
		engine = storetest.Engine()
	}
	if engine == store.Postgres || o.DSN != "" {
		dsn := o.DSN
		if dsn == "" {
			dsn = pgtest.DSN(t)
		}
		db, err := store.OpenPostgres(ctx, dsn, o.postgres())
		return db, dsn, err
	}
	path := filepath.Join(dir, "sspr.db")
	db, err := store.OpenWith(ctx, path, store.Options{OnFault: o.Faults.Hook("store")})
	return db, path, err
}

// postgres is how the harness opens a PostgreSQL store.
func (o Options) postgres() store.PostgresOptions {
	return store.PostgresOptions{OnFault: o.Faults.Hook("store"), StatementTimeout: o.StatementTimeout, Tracer: o.Tracer}
}

// HookScript writes an executable shell script with body, for a password
// hook (hooks.New) to run, and returns its absolute path.
func HookScript(t testing.TB, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hook.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}
