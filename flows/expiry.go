package flows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// day is the unit of the expiry settings.
const day = 24 * time.Hour

// PasswordExpiry is what is known of a password's age.
type PasswordExpiry struct {
	// ChangedAt is when the password was set; zero when unknown.
	ChangedAt time.Time
	// ExpiresAt is when it stops working; zero when it never does.
	ExpiresAt time.Time
}

// Expires reports whether the password expires at all.
func (e PasswordExpiry) Expires() bool { return !e.ExpiresAt.IsZero() }

// ExpiryReader is a Directory that knows when its passwords expire (the
// LDAP one). The built-in directory's expiry comes from the policy's
// password_max_age_days instead.
type ExpiryReader interface {
	// PasswordExpiry reads the expiry of a user's password; ErrUnknownUser
	// for a username the directory does not hold.
	PasswordExpiry(ctx context.Context, username string) (PasswordExpiry, error)
}

// PasswordExpiry reads the directory's expiry of a user's password.
func (d *LDAPDirectory) PasswordExpiry(ctx context.Context, username string) (PasswordExpiry, error) {
	ex, err := d.client.PasswordExpiry(ctx, username)
	if err != nil {
		return PasswordExpiry{}, d.mapError("password expiry", err)
	}
	return PasswordExpiry(ex), nil
}

var _ ExpiryReader = (*LDAPDirectory)(nil)

// DaysLeft is how many days a person is told are left before expiresAt:
// the whole days, rounded up, so a password expiring in 2 days and 5 hours
// "expires in 3 days". 0 once it has expired.
func DaysLeft(expiresAt, now time.Time) int {
	left := expiresAt.Sub(now)
	if left <= 0 {
		return 0
	}
	return int((left + day - 1) / day)
}

// localExpiry is the expiry of a password in sspr's own store: its age
// against password_max_age_days. A password set before the time was kept
// counts from when the account was made.
func localExpiry(pol policy.Policy, hasPassword bool, changedAt, createdAt int64) PasswordExpiry {
	if !hasPassword {
		return PasswordExpiry{}
	}
	if changedAt == 0 {
		changedAt = createdAt
	}
	ex := PasswordExpiry{ChangedAt: time.Unix(changedAt, 0)}
	if pol.PasswordMaxAgeDays > 0 {
		ex.ExpiresAt = ex.ChangedAt.Add(time.Duration(pol.PasswordMaxAgeDays) * day)
	}
	return ex
}

// builtin reports whether passwords live in sspr's own store.
func (s *Service) builtin() bool {
	b, ok := s.dir.(*BuiltinDirectory)
	return ok && b.db == s.db
}

// threshold returns the reminder threshold (days before expiry) that
// applies now: the smallest that has been reached. A person reached first
// when two have passed (reminders were off, or sspr was down) gets one
// reminder, for the nearer. It reports false before the first threshold
// and once the password has expired.
func threshold(pol policy.Policy, ex PasswordExpiry, now time.Time) (int, bool) {
	if !ex.Expires() || !now.Before(ex.ExpiresAt) {
		return 0, false
	}
	left := ex.ExpiresAt.Sub(now)
	best, ok := 0, false
	for _, d := range pol.ExpiryReminderDays {
		if left <= time.Duration(d)*day && (!ok || d < best) {
			best, ok = d, true
		}
	}
	return best, ok
}

// PlannedReminder is one message a reminder run sends, or would send: it
// holds no secret, and the address is masked.
type PlannedReminder struct {
	Username string
	Channel  string
	// To is the masked address or number.
	To string
	// Days is the threshold reached; DaysLeft what the message says.
	Days     int
	DaysLeft int
	// ExpiresAt is when the password expires.
	ExpiresAt time.Time
}

// RemindOptions tune RunReminders.
type RemindOptions struct {
	// DryRun sends and records nothing: it only says what it would send.
	DryRun bool
	// Each hears of every message sent or, in a dry run, that would be.
	Each func(PlannedReminder)
}

// RemindReport counts what a reminder run found.
type RemindReport struct {
	// Checked is how many accounts were looked at.
	Checked int
	// Due is how many passwords reached a reminder threshold.
	Due int
	// AlreadySent of them had their reminder for it already.
	AlreadySent int
	// Unreachable of them had nowhere a reminder could go.
	Unreachable int
	// Messages is how many messages were queued, or would be in a dry run.
	Messages int
	// Failed is how many accounts' expiry could not be read.
	Failed int
}

// expiryAccount is an account with the expiry of its password.
type expiryAccount struct {
	store.PasswordAccount
	expiry PasswordExpiry
	// contacts are the channels and addresses a reminder can go to now.
	contacts [][2]string
}

// contactKinds are the method kinds that carry messages.
func contactKinds() []string {
	var out []string
	for _, m := range policy.AllMethods() {
		if m.Describe().Channel != policy.ChannelNone {
			out = append(out, string(m))
		}
	}
	return out
}

// scanExpiries calls fn for every enabled account whose password expires,
// with its expiry and the contacts a message could go to over the channels
// configured. The built-in directory's expiries come from one read of the
// store; a directory's are read account by account after that read,
// directoryLookups at a time.
// It returns how many accounts it could not read the expiry of.
func (s *Service) scanExpiries(ctx context.Context, pol policy.Policy, fn func(expiryAccount) error) (int, error) {
	local := s.builtin()
	_, reader := s.dir.(ExpiryReader)
	if !local && !reader || local && pol.PasswordMaxAgeDays == 0 {
		return 0, nil
	}
	var accounts []expiryAccount
	err := store.EachPasswordAccount(ctx, s.db, contactKinds(), func(a store.PasswordAccount) error {
		if a.Disabled {
			return nil
		}
		ea := expiryAccount{PasswordAccount: a}
		if local {
			if ea.expiry = localExpiry(pol, a.HasPassword, a.PasswordChangedAt, a.CreatedAt); !ea.expiry.Expires() {
				return nil
			}
		}
		accounts = append(accounts, ea)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("password expiry: %w", err)
	}
	failed := 0
	if !local {
		if accounts, failed, err = s.directoryExpiries(ctx, accounts); err != nil {
			return failed, fmt.Errorf("password expiry: %w", err)
		}
	}
	for _, a := range accounts {
		for _, c := range contactsFrom(a.Contacts, a.Email) {
			if s.dispatcher.HasChannel(c[0]) {
				a.contacts = append(a.contacts, c)
			}
		}
		if err := fn(a); err != nil {
			return failed, err
		}
	}
	return failed, nil
}

// directoryLookups is how many accounts' expiries are read from a
// directory at once: as many as the directory client keeps connections
// by default (ldap.pool_size), so a run over many accounts takes a
// fraction of the time without opening more.
const directoryLookups = 4

// directoryExpiries reads each account's expiry from the directory,
// directoryLookups at once, and returns, in their order, the accounts
// whose password expires, with how many could not be read. A directory
// that cannot be reached, or ctx ending, stops the reading and the run.
func (s *Service) directoryExpiries(ctx context.Context, accounts []expiryAccount) ([]expiryAccount, int, error) {
	reader := s.dir.(ExpiryReader)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	type read struct {
		ex  PasswordExpiry
		err error
	}
	reads := make([]read, len(accounts))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(directoryLookups, len(accounts)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(accounts) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				ex, err := reader.PasswordExpiry(ctx, accounts[i].Username)
				reads[i] = read{ex: ex, err: err}
				if errors.Is(err, ErrDirectoryUnavailable) {
					stop(err)
				}
			}
		})
	}
	wg.Wait()
	failed := 0
	out := accounts[:0]
	for i, a := range accounts {
		switch r := reads[i]; {
		case errors.Is(r.err, ErrUnknownUser):
		case r.err != nil:
			failed++
		case r.ex.Expires():
			a.expiry = r.ex
			out = append(out, a)
		}
	}
	if err := context.Cause(ctx); err != nil {
		return nil, failed, err
	}
	return out, failed, nil
}

// RunReminders sends the password expiry reminders that are due: for each
// password that reached a threshold of expiry_reminder_days, one message
// to each of the person's contacts, through the outbox (with its retries).
// Each reminder goes out once per password and threshold, whichever
// replica runs it and however often: the record that it was sent and the
// messages commit together, and a second record of the same reminder
// conflicts and sends nothing.
func (s *Service) RunReminders(ctx context.Context, opts RemindOptions) (RemindReport, error) {
	var rep RemindReport
	pol, err := s.Policy(ctx)
	if err != nil {
		return rep, err
	}
	if len(pol.ExpiryReminderDays) == 0 {
		return rep, nil
	}
	sent, err := store.SentExpiryReminders(ctx, s.db)
	if err != nil {
		return rep, fmt.Errorf("reminders: %w", err)
	}
	now := s.now()
	rep.Failed, err = s.scanExpiries(ctx, pol, func(a expiryAccount) error {
		rep.Checked++
		d, ok := threshold(pol, a.expiry, now)
		if !ok {
			return nil
		}
		rep.Due++
		key := store.ExpiryReminderKey{UserID: a.ID, PasswordChangedAt: reminderStamp(a.expiry), Days: d}
		if sent[key] {
			rep.AlreadySent++
			return nil
		}
		if len(a.contacts) == 0 {
			rep.Unreachable++
			return nil
		}
		planned := make([]PlannedReminder, len(a.contacts))
		for i, c := range a.contacts {
			planned[i] = PlannedReminder{Username: a.Username, Channel: c[0],
				To: maskDestination(policy.Channel(c[0]), c[1]), Days: d, DaysLeft: DaysLeft(a.expiry.ExpiresAt, now),
				ExpiresAt: a.expiry.ExpiresAt}
		}
		if !opts.DryRun {
			queued, err := s.queueReminder(ctx, pol, a, key, now)
			if err != nil {
				return err
			}
			if !queued {
				rep.AlreadySent++
				return nil
			}
		}
		rep.Messages += len(planned)
		if opts.Each != nil {
			for _, p := range planned {
				opts.Each(p)
			}
		}
		return nil
	})
	return rep, err
}

// reminderStamp names a password in the record of its reminders: when it
// was set or, from a directory that does not say, when it expires.
func reminderStamp(ex PasswordExpiry) int64 {
	if ex.ChangedAt.IsZero() {
		return ex.ExpiresAt.Unix()
	}
	return ex.ChangedAt.Unix()
}

// queueReminder records a reminder and queues its messages in one
// transaction; false when it was recorded already (by another replica).
func (s *Service) queueReminder(ctx context.Context, pol policy.Policy, a expiryAccount, key store.ExpiryReminderKey,
	now time.Time) (bool, error) {
	queued := false
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		ok, err := store.RecordExpiryReminder(ctx, tx, key, now.Unix())
		if err != nil || !ok {
			return err
		}
		for _, c := range a.contacts {
			msg, err := s.render(a.Language, "expiry", map[string]any{"DisplayName": a.DisplayName, "ExpiresAt": a.expiry.ExpiresAt,
				"DaysLeft": DaysLeft(a.expiry.ExpiresAt, now), "KioskLocation": s.kioskLocation,
				"PortalCommand": s.portalCommand, "Helpdesk": pol.HelpdeskContact})
			if err != nil {
				return fmt.Errorf("reminder: %w", err)
			}
			msg.Kind, msg.Channel, msg.To = dispatch.KindNotification, c[0], c[1]
			if err := s.dispatcher.Notify(ctx, tx, msg); err != nil {
				return fmt.Errorf("reminder: %w", err)
			}
		}
		queued = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("queue reminder for %s: %w", a.Username, err)
	}
	return queued, nil
}

// ExpiryOverview is the insights' view of password expiry.
type ExpiryOverview struct {
	// Expires says whether any password expires at all (a maximum age is
	// set, or the directory reports expiries).
	Expires bool
	// Next7 and Next30 count passwords expiring within 7 and 30 days
	// (those already expired not included).
	Next7, Next30 int
	// Expired counts passwords already expired.
	Expired int
	// Unreachable counts people whose password expires and who have no
	// address a reminder could go to; UnreachableNames are the first of them.
	Unreachable      int
	UnreachableNames []string
	// Failed counts accounts whose expiry could not be read.
	Failed int
}

// maxUnreachableNames bounds the names an ExpiryOverview lists.
const maxUnreachableNames = 5

// ExpiryOverview counts the passwords expiring soon and the people a
// reminder cannot reach.
func (s *Service) ExpiryOverview(ctx context.Context) (ExpiryOverview, error) {
	var ov ExpiryOverview
	pol, err := s.Policy(ctx)
	if err != nil {
		return ov, err
	}
	_, reader := s.dir.(ExpiryReader)
	ov.Expires = s.builtin() && pol.PasswordMaxAgeDays > 0 || !s.builtin() && reader
	now := s.now()
	ov.Failed, err = s.scanExpiries(ctx, pol, func(a expiryAccount) error {
		left := a.expiry.ExpiresAt.Sub(now)
		switch {
		case left <= 0:
			ov.Expired++
		case left <= 7*day:
			ov.Next7++
			ov.Next30++
		case left <= 30*day:
			ov.Next30++
		}
		if len(a.contacts) == 0 {
			ov.Unreachable++
			if len(ov.UnreachableNames) < maxUnreachableNames {
				ov.UnreachableNames = append(ov.UnreachableNames, a.Username)
			}
		}
		return nil
	})
	return ov, err
}
