package main

import (
	"context"
	"fmt"
	"github.com/jackc/pgx/v5/pgconn"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"charm.land/log/v2"

	"github.com/sspr-kiosk/sspr/cmd/sspr/metrics"
	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/hooks"
	"github.com/sspr-kiosk/sspr/flows/password"
	"github.com/sspr-kiosk/sspr/flows/secret"
	"github.com/sspr-kiosk/sspr/flows/webhook"
	"github.com/sspr-kiosk/sspr/store"
)

// rootOptions are the flags every subcommand shares.
type rootOptions struct {
	dataDir string
}

// app is an opened data folder: config, store and the flows service.
type app struct {
	dataDir    string
	cfg        config.Config
	db         *store.DB
	svc        *flows.Service
	dispatcher *dispatch.Dispatcher
	hasher     *password.Hasher
	dir        flows.Directory
	// log is the server log (stderr); warnings at start go there too.
	log *log.Logger
	// faults is the fault log of the store, the dispatcher, the directory
	// and the flows; silent until serve gives it the server log.
	faults *flows.Faults
	// metrics counts what operators watch; served only with
	// --metrics-listen (metrics.listen).
	metrics *metrics.Metrics
}

// resolveDataDir applies --data, then $SSPR_DATA_PATH, then ./sspr-data.
func (o *rootOptions) resolveDataDir() string {
	if o.dataDir != "" {
		return o.dataDir
	}
	if v := os.Getenv("SSPR_DATA_PATH"); v != "" {
		return v
	}
	return "sspr-data"
}

// open loads the config and opens the store in the data folder.
func (o *rootOptions) open(ctx context.Context) (*app, error) {
	return openApp(ctx, o.resolveDataDir(), os.Environ(), clock.Real{}, false)
}

// openApp wires the service for a data folder.
func openApp(ctx context.Context, dataDir string, environ []string, clk clock.Clock, outbox bool) (*app, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	cfg, err := config.Load(abs, environ)
	if err != nil {
		return nil, err
	}
	keys, err := loadKeys(cfg)
	if err != nil {
		return nil, err
	}
	logger := newLogger()
	// Faults are logged by servers only (serve turns the log on): a command
	// says its one-line reason, and a TUI on this terminal owns the screen.
	faults := flows.NewFaults(clk, configSecrets(cfg)...)
	m := metrics.New()
	storeFault := faults.Hook("store")
	db, err := openStore(ctx, cfg, logger, func(err error) {
		m.StoreError(err)
		storeFault(err)
	})
	if err != nil {
		return nil, err
	}
	hasher := password.NewHasher(password.Params{MemoryKiB: cfg.Hash.MemoryKiB, Time: cfg.Hash.Time,
		Threads: cfg.Hash.Threads}, cfg.Hash.MaxConcurrent)
	hasher.ObserveWait(m.HashWait)
	var outboxChannel dispatch.Channel
	if outbox {
		outboxChannel = dispatch.NewOutboxChannel(db, clk)
	}
	channels, err := deliveryChannels(cfg, outboxChannel)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	d := dispatch.New(channels, db, clk, dispatch.Options{CodeTimeout: cfg.Codes.SendTimeout,
		OnError: faults.Hook("notification queue"), OnDeliveryError: faults.Hook("delivery"),
		OnSend: func(kind dispatch.Kind, channel string, err error, took time.Duration) {
			m.Delivery(string(kind), channel, err, took)
		}})
	dir, err := directoryFor(cfg, flows.NewBuiltinDirectory(db, hasher, clk), clk, faults)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	endpoints, err := webhook.EndpointsFrom(cfg)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	svc, err := flows.New(flows.Deps{DB: db, Clock: clk, Hasher: hasher, Checker: password.NewChecker(), Keys: keys,
		Dispatcher: d, Directory: dir, Faults: faults, Organisation: cfg.UI.Organisation, Language: cfg.UI.Language,
		VoucherLifetime: cfg.Vouchers.Lifetime, AuditCheckpoint: filepath.Join(abs, audit.CheckpointFile),
		KioskLocation: cfg.UI.KioskLocation, PortalCommand: cfg.SSH.PublicCommand,
		Webhooks: endpoints, WebhookOptions: webhook.Options{OnError: faults.Hook("webhooks"), OnAttempt: m.WebhookAttempt},
		OnRecord:   m.Event,
		Hooks:      hooks.New(cfg.Hooks.PasswordCheck, cfg.Hooks.PasswordChanged, cfg.Hooks.Timeout),
		HookReport: cfg.Hooks.OnFailure == config.HookFailureReport})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	// Before anything is read or recorded: a process with another key
	// than the store's could open none of its secrets.
	if err := svc.CheckKey(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	// Before anything is recorded: a log from before the keyed chain is
	// re-keyed on the first start with the key.
	if _, err := svc.PrepareAudit(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	m.WatchOutbox(svc.OutboxDepth)
	return &app{dataDir: abs, cfg: cfg, db: db, svc: svc, dispatcher: d, hasher: hasher, dir: dir, log: logger,
		faults: faults, metrics: m}, nil
}

// loadKeys reads key_file, which must exist, or else the data folder's
// sspr.key, made on first start.
func loadKeys(cfg config.Config) (*secret.Keys, error) {
	if cfg.KeyFile == "" {
		return secret.LoadOrCreateKeys(cfg.DataDir)
	}
	path := cfg.KeyFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(cfg.DataDir, path)
	}
	return secret.LoadKeyFile(path)
}

// openStore opens the store the config names: the SQLite file in the data
// folder, or the PostgreSQL database of db.dsn.
func openStore(ctx context.Context, cfg config.Config, logger *log.Logger, onFault func(error)) (*store.DB, error) {
	if cfg.DB.Driver == config.DriverPostgres {
		password, err := cfg.DBPassword()
		if err != nil {
			return nil, err
		}
		return store.OpenPostgres(ctx, cfg.DB.DSN, store.PostgresOptions{Password: password,
			MaxConns: cfg.DB.MaxConns, MaxIdleConns: cfg.DB.MaxIdleConns, StatementTimeout: cfg.DB.StatementTimeout,
			OnFault: onFault})
	}
	return store.OpenWith(ctx, filepath.Join(cfg.DataDir, "sspr.db"), store.Options{
		OnLooseMode: func(file string, was fs.FileMode) {
			logger.Warn("the store was readable by others; made it private", "file", file,
				"was", fmt.Sprintf("%#o", was), "now", "0600")
		},
		OnFault: onFault,
	})
}

// configSecrets are the secrets in the config, for the fault log to blank
// should a server quote one back. One that cannot be read is left out: the
// channel or directory needing it then fails to start.
func configSecrets(cfg config.Config) []string {
	var out []string
	if pw := dsnPassword(cfg.DB.DSN); pw != "" {
		out = append(out, pw)
	}
	for _, read := range []func() (string, error){cfg.SMTPPassword, cfg.LDAPBindPassword, cfg.SMSAuthHeader, cfg.DBPassword} {
		if s, err := read(); err == nil && s != "" {
			out = append(out, s)
			if _, token, ok := strings.Cut(s, " "); ok {
				out = append(out, token) // "Bearer TOKEN": the token alone
			}
		}
	}
	return out
}

// dsnPassword is the password written into a PostgreSQL DSN, if any.
func dsnPassword(dsn string) string {
	if dsn == "" {
		return ""
	}
	c, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return ""
	}
	return c.Password
}

// newLogger returns the log a server writes, and where warnings at start go:
// stderr, timed.
func newLogger() *log.Logger {
	return log.NewWithOptions(os.Stderr, log.Options{ReportTimestamp: true, Prefix: "sspr"})
}

// Close lets codes still on their way go out (each is bounded by the send
// timeout), brings the audit checkpoint up to what this run recorded and
// closes the store. A checkpoint that cannot be written (a tampered log) is
// left for audit verify and the server log to report.
func (a *app) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), max(a.cfg.Codes.SendTimeout, 10*time.Second)+time.Second)
	defer cancel()
	_ = a.svc.WaitDeliveries(ctx)
	anchorCtx, cancelAnchor := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelAnchor()
	_, _, _ = a.svc.AnchorAudit(anchorCtx)
	return a.db.Close()
}

// cliActor names the person at the shell for the audit log.
func cliActor() flows.Actor {
	name := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = "cli:" + u.Username
	}
	return flows.Actor{Name: name, Source: "cli"}
}

// tidyEvery is how often a running sspr deletes spent records (flows.Tidy).
const tidyEvery = time.Hour

// anchorEvery is how often a running sspr looks at the audit head and, when
// it moved, writes the checkpoint and logs it: the checkpoint is never more
// than this behind.
const anchorEvery = time.Minute

// startWorkers runs, until ctx ends, what a long-running sspr does beside
// its screens: the notification dispatcher, the webhook sender, tidying now
// and every tidyEvery, password expiry reminders now and every remindEvery,
// and the audit anchor now and every anchorEvery. logger hears
// of failures and of the audit head; nil keeps quiet, for a terminal that
// shows the TUI and has nowhere to say it. The returned stop ends them and
// returns once all have returned: the dispatcher has handed back a message
// it was sending and the anchor has written its last checkpoint. Call it
// before closing the store.
func (a *app) startWorkers(ctx context.Context, logger *log.Logger) (stop func()) {
	if logger == nil {
		logger = log.New(io.Discard)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.dispatcher.Run(ctx) })
	if a.svc.Webhooks().Configured() {
		wg.Go(func() { a.svc.Webhooks().Run(ctx) })
	}
	wg.Go(func() {
		t := time.NewTicker(tidyEvery)
		defer t.Stop()
		for {
			if err := a.svc.Tidy(ctx); err != nil && ctx.Err() == nil {
				logger.Error("tidy", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	wg.Go(func() {
		t := time.NewTicker(remindEvery)
		defer t.Stop()
		remindLoop(ctx, a.svc, t.C, logger)
	})
	wg.Go(func() {
		t := time.NewTicker(anchorEvery)
		defer t.Stop()
		anchorAudit(ctx, a.svc, t.C, logger)
	})
	return func() {
		cancel()
		wg.Wait()
	}
}

// anchorAudit keeps the audit checkpoint at most one tick behind the head:
// now, at every tick and once more when ctx ends, it writes the checkpoint
// if the head moved, and logs the head whenever it moved since the last
// line, so the server log holds the head too, minute by minute while it
// changes. A checkpoint it must not write (the head tampered with, the log
// cut back) is logged as an error at every tick: it does not go away.
func anchorAudit(ctx context.Context, svc *flows.Service, ticks <-chan time.Time, logger *log.Logger) {
	var logged audit.Head
	step := func(ctx context.Context) {
		head, _, err := svc.AnchorAudit(ctx)
		switch {
		case err != nil:
			logger.Error("audit checkpoint", "err", err)
		case head != logged:
			logger.Info("audit head", "rows", head.Rows, "last", head.LastID, "mac", head.ShortMAC())
			logged = head
		}
	}
	step(ctx)
	for {
		select {
		case <-ctx.Done():
			// The last checkpoint on the way out, on a context of its own.
			final, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			step(final)
			cancel()
			return
		case <-ticks:
			step(ctx)
		}
	}
}
