package flows

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/webhook"
)

// AuditEntries returns the audit entries a filter selects, newest first, for
// the admin panel.
func (s *Service) AuditEntries(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	return audit.List(ctx, s.db, f)
}

// VerifyAudit walks the audit chain and compares it with its checkpoint,
// reporting everything that was changed, inserted or removed.
func (s *Service) VerifyAudit(ctx context.Context) (audit.Report, error) {
	return s.audit.Verify(ctx, s.db, s.checkpoint)
}

// ExportAudit writes the whole audit log to w, oldest first, as "jsonl" or
// "csv" (audit.Export: streamed, and safe to open in a spreadsheet).
func (s *Service) ExportAudit(ctx context.Context, w io.Writer, format string) error {
	return audit.Export(ctx, s.db, w, format)
}

// PrepareAudit brings an audit log written before the chain had a key under
// the key, once (audit.Chain.Rekey); a program calls it on start, before it
// records anything.
func (s *Service) PrepareAudit(ctx context.Context) (audit.Rekeyed, error) {
	return s.audit.Rekey(ctx, s.db, s.now(), s.checkpoint)
}

// AnchorAudit brings the audit checkpoint up to the head of the log if the
// head moved (audit.Chain.Checkpoint), and returns the head and whether it
// wrote. A running sspr calls it every minute and on its way out. Without a
// checkpoint path (tests) it does nothing.
func (s *Service) AnchorAudit(ctx context.Context) (audit.Head, bool, error) {
	if s.checkpoint == "" {
		return audit.Head{}, false, nil
	}
	head, wrote, err := s.audit.Checkpoint(ctx, s.db, s.checkpoint, s.now())
	if brokenChain(err) && s.webhooks.Configured() && s.chainBrokenSent.CompareAndSwap(false, true) {
		p := webhook.Payload{Event: config.WebhookChainBroken, Time: s.now().UTC().Format(time.RFC3339),
			Actor: "system", Outcome: audit.OutcomeFailed}
		if qerr := s.webhooks.QueuePayload(ctx, s.db, p); qerr != nil {
			s.chainBrokenSent.Store(false)
			err = errors.Join(err, qerr)
		}
	}
	return head, wrote, err
}

// brokenChain reports whether an anchoring error says the log was tampered
// with, rather than that the store or the file could not be reached.
func brokenChain(err error) bool {
	return errors.Is(err, audit.ErrHeadMismatch) || errors.Is(err, audit.ErrNotExtended) ||
		errors.Is(err, audit.ErrCheckpoint)
}
