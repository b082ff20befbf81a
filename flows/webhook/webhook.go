// Package webhook tells other systems what happened in sspr: a password
// reset, a block, a policy change. Each event is a small JSON object POSTed
// to the receivers that asked for it and signed as the Standard Webhooks
// specification says, so a receiver can check that sspr sent it and drop
// duplicates by its webhook-id.
//
// Events are written to the store's outbox in the transaction that records
// the audit entry they come from, so one exists exactly when the change
// commits, and a person's reset never waits for a receiver. A Sender
// delivers them in the background: a row lease lets one replica of many
// send each, failed attempts are retried with backoff (the schedule lives
// in the store, so it holds across restarts), and after a day an event is
// given up and audited as webhook.failed.
//
// The body (Payload) is the event's name, its time, who did it, whom it was
// about, where from and the outcome. It never carries a password, code,
// answer or secret: the audit entry's free-text detail is not sent at all.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/store"
)

// Headers of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// EventPing is the event `sspr webhook test` sends; no receiver subscribes
// to it, every receiver may get it.
const EventPing = "ping"

// ErrUnknownEndpoint means no webhook of that name is configured.
var ErrUnknownEndpoint = errors.New("no such webhook")

// Payload is the JSON body of every event. The field names are a contract
// with receivers.
type Payload struct {
	// Event is one of config.WebhookEvents, or ping.
	Event string `json:"event"`
	// Time is when it happened, RFC 3339 in UTC.
	Time string `json:"time"`
	// Actor is who did it: a username, "admin:<name>", "cli:<user>" or
	// "system".
	Actor string `json:"actor"`
	// Subject is the username the event is about; empty when it is about
	// no one person (a policy change).
	Subject string `json:"subject"`
	// Source is where from: the SSH client's address or the kiosk's name.
	Source string `json:"source"`
	// Outcome is "ok", "failed" or a short reason.
	Outcome string `json:"outcome"`
}

// route says which webhook event an audit event is.
type route struct {
	event string
	// subject: the entry's Target is a username.
	subject bool
	// only, when set, keeps the entries it returns true for.
	only func(audit.Entry) bool
}

// accountTarget reports whether an entry is about an account (blocks are
// also applied to sources, which are not accounts).
func accountTarget(e audit.Entry) bool { return !strings.Contains(e.Target, ":") }

// succeeded reports whether an entry did what it names: a self-service
// unlock of an account that was not locked is audited with its own outcome
// and changed nothing.
func succeeded(e audit.Entry) bool { return e.Outcome == "" || e.Outcome == audit.OutcomeOK }

// routes is the one table from audit events to webhook events (read, never
// written); an audit event not in it is not sent anywhere, and
// audit.chain_broken, found outside any entry, is queued with QueuePayload.
// An admin's user.unlocked is not one: it is recorded whether or not
// anything was locked, and account.unlocked follows when a lockout was
// lifted. A list, not a map literal, so that two names for one event
// cannot clash.
var routes = []struct {
	from audit.Event
	to   route
}{
	{audit.EventPasswordReset, route{event: config.WebhookPasswordReset, subject: true}},
	{audit.EventPasswordChanged, route{event: config.WebhookPasswordChanged, subject: true}},
	{audit.EventAccountUnlocked, route{event: config.WebhookAccountUnlocked, subject: true, only: succeeded}},
	{audit.EventBlockApplied, route{event: config.WebhookAccountBlocked, subject: true, only: accountTarget}},
	{audit.EventMethodRegistered, route{event: config.WebhookMethodsChanged, subject: true}},
	{audit.EventMethodUpdated, route{event: config.WebhookMethodsChanged, subject: true}},
	{audit.EventMethodRemoved, route{event: config.WebhookMethodsChanged, subject: true}},
	{audit.EventReregistrationRequired, route{event: config.WebhookRegistrationRequired, subject: true}},
	{audit.EventPolicyChanged, route{event: config.WebhookPolicyChanged}},
	{audit.EventUserCreated, route{event: config.WebhookUserChanged, subject: true, only: accountTarget}},
	{audit.EventUserUpdated, route{event: config.WebhookUserChanged, subject: true}},
	{audit.EventUserDisabled, route{event: config.WebhookUserChanged, subject: true}},
	{audit.EventUserEnabled, route{event: config.WebhookUserChanged, subject: true}},
	{audit.EventAdminGranted, route{event: config.WebhookUserChanged, subject: true}},
	{audit.EventAdminRevoked, route{event: config.WebhookUserChanged, subject: true}},
	{audit.EventGroupMemberAdded, route{event: config.WebhookUserChanged}},
	{audit.EventGroupMemberRemoved, route{event: config.WebhookUserChanged}},
}

// routeOf finds an audit event's route.
func routeOf(e audit.Event) (route, bool) {
	for _, r := range routes {
		if r.from == e {
			return r.to, true
		}
	}
	return route{}, false
}

// PayloadOf returns the webhook payload of an audit entry, and false when
// the entry is not an event any receiver can ask for.
func PayloadOf(e audit.Entry) (Payload, bool) {
	r, ok := routeOf(e.Event)
	if !ok || (r.only != nil && !r.only(e)) {
		return Payload{}, false
	}
	p := Payload{Event: r.event, Time: e.At.UTC().Format(time.RFC3339), Actor: e.Actor, Source: e.Source,
		Outcome: e.Outcome}
	if r.subject {
		p.Subject = e.Target
	}
	if p.Outcome == "" {
		p.Outcome = audit.OutcomeOK
	}
	return p, true
}

// Endpoint is one receiver.
type Endpoint struct {
	Name string
	URL  string
	// Key is the HMAC key (the secret's bytes after whsec_).
	Key []byte
	// Events are the event names it gets.
	Events []string
	// Timeout bounds one attempt; 0 means config.DefaultWebhookTimeout.
	Timeout time.Duration
}

// EndpointsFrom reads the configured webhooks and their secrets; call it
// once at start.
func EndpointsFrom(cfg config.Config) ([]Endpoint, error) {
	out := make([]Endpoint, 0, len(cfg.Webhooks))
	for i, w := range cfg.Webhooks {
		key, err := cfg.WebhookKey(i)
		if err != nil {
			return nil, err
		}
		out = append(out, Endpoint{Name: w.Name, URL: w.URL, Key: key, Events: slices.Clone(w.Events), Timeout: w.Timeout})
	}
	return out, nil
}

// Sign returns the webhook-signature header value for a message: "v1," and
// the base64 HMAC-SHA256 of "id.timestamp.body" under key.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// newID returns a fresh webhook-id: unique, and without the dots the
// signed string uses as separators.
func newID() string { return "msg_" + rand.Text() }

// Queue writes the webhook events of an audit entry to the outbox through h,
// one row per receiver that asked for it. Pass the transaction that records
// the entry, so the events exist exactly when it commits.
func (s *Sender) Queue(ctx context.Context, h store.Handler, e audit.Entry) error {
	if s == nil || len(s.endpoints) == 0 {
		return nil
	}
	p, ok := PayloadOf(e)
	if !ok {
		return nil
	}
	return s.queue(ctx, h, p)
}

// QueuePayload writes an event that no audit entry records (the audit chain
// found broken) to the outbox through h, for the receivers that asked for it.
func (s *Sender) QueuePayload(ctx context.Context, h store.Handler, p Payload) error {
	if s == nil || len(s.endpoints) == 0 {
		return nil
	}
	return s.queue(ctx, h, p)
}

func (s *Sender) queue(ctx context.Context, h store.Handler, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("queue webhook: %w", err)
	}
	now := s.clock.Now().Unix()
	for _, ep := range s.endpoints {
		if !slices.Contains(ep.Events, p.Event) {
			continue
		}
		if _, err := store.EnqueueOutbox(ctx, h, store.OutboxMessage{Kind: store.OutboxKindWebhook, Channel: "webhook",
			Destination: ep.Name, Subject: newID(), Body: string(body), NextAttemptAt: now, CreatedAt: now}); err != nil {
			return fmt.Errorf("queue webhook %s: %w", ep.Name, err)
		}
	}
	return nil
}

func jsonPayload(p Payload) ([]byte, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("webhook payload: %w", err)
	}
	return body, nil
}

func parsePayload(body string) (Payload, error) {
	var p Payload
	err := json.Unmarshal([]byte(body), &p)
	return p, err
}
