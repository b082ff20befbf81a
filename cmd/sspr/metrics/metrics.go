// Package metrics is sspr's Prometheus endpoint for operators: counters
// and gauges fed by hooks the portal, the flows, the dispatcher, the hasher
// and the store offer, and /healthz and /readyz for load balancers.
//
// No label carries a username, an address or any other value a person
// chooses: labels are event names, outcomes, channels, refusal reasons and
// configured webhook names, so the number of series stays bounded whatever
// the traffic.
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sspr-kiosk/sspr/flows/audit"
)

// Metrics holds every series of one process. Build one with New; its
// methods are safe for concurrent use and may be given as hooks.
type Metrics struct {
	reg *prometheus.Registry

	refused     *prometheus.CounterVec
	events      *prometheus.CounterVec
	passwords   *prometheus.CounterVec
	blocks      *prometheus.CounterVec
	codes       *prometheus.CounterVec
	delivery    *prometheus.HistogramVec
	hashWait    prometheus.Histogram
	storeErrors prometheus.Counter
	webhooks    *prometheus.CounterVec

	draining atomic.Bool
}

// New registers every series on a registry of its own, with Go's and the
// process's collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sspr_connections_refused_total",
		Help: "SSH connections and sessions turned away, by reason."}, []string{"reason"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sspr_audit_events_total",
		Help: "Security events recorded in the audit log, by event and outcome."}, []string{"event", "outcome"})
	m.passwords = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sspr_password_operations_total",
		Help: "Password resets, changes and account unlocks, by outcome."}, []string{"operation", "outcome"})
	m.blocks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sspr_throttle_blocks_total",
		Help: "Blocks applied by throttling, by scope (account or source)."}, []string{"scope"})
	m.codes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sspr_messages_sent_total",
		Help: "Codes and notifications handed to a channel, by kind, channel and result."}, []string{"kind", "channel", "result"})
	m.delivery = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sspr_delivery_seconds",
		Help:    "How long a channel took to take a code or notification, by channel.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"channel"})
	m.hashWait = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sspr_argon2_queue_wait_seconds",
		Help:    "How long a password hash waited for a hashing slot.",
		Buckets: []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5}})
	m.storeErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "sspr_store_errors_total",
		Help: "Store operations that failed for want of the database (not refusals like a missing row)."})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sspr_webhook_deliveries_total",
		Help: "Webhook delivery attempts, by configured webhook and result."}, []string{"webhook", "result"})
	m.reg.MustRegister(m.refused, m.events, m.passwords, m.blocks, m.codes, m.delivery, m.hashWait, m.storeErrors,
		m.webhooks, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Refused counts a connection or session the portal turned away.
func (m *Metrics) Refused(reason string) { m.refused.WithLabelValues(reason).Inc() }

// operationOf names the password operation an audit event is, if any. An
// admin's user.unlocked is not counted: account.unlocked follows it when a
// lockout was lifted.
func operationOf(e audit.Event) (string, bool) {
	switch e {
	case audit.EventPasswordReset:
		return "reset", true
	case audit.EventPasswordChanged:
		return "change", true
	case audit.EventAccountUnlocked:
		return "unlock", true
	}
	return "", false
}

// outcomeLabel folds an audit outcome, which may be a short reason, into
// ok, failed or other.
func outcomeLabel(o string) string {
	switch o {
	case "", audit.OutcomeOK:
		return audit.OutcomeOK
	case audit.OutcomeFailed:
		return audit.OutcomeFailed
	}
	return "other"
}

// Event counts an audit entry: by event and outcome, as a password
// operation, and as a throttle block.
func (m *Metrics) Event(e audit.Entry) {
	outcome := outcomeLabel(e.Outcome)
	m.events.WithLabelValues(string(e.Event), outcome).Inc()
	if op, ok := operationOf(e.Event); ok {
		m.passwords.WithLabelValues(op, outcome).Inc()
	}
	if e.Event == audit.EventBlockApplied {
		scope := "account"
		if strings.HasPrefix(e.Target, "source:") {
			scope = "source"
		}
		m.blocks.WithLabelValues(scope).Inc()
	}
}

// Delivery counts a code or notification handed to a channel, and times it.
func (m *Metrics) Delivery(kind, channel string, err error, took time.Duration) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.codes.WithLabelValues(kind, channel, result).Inc()
	m.delivery.WithLabelValues(channel).Observe(took.Seconds())
}

// HashWait observes a hash's wait for a slot.
func (m *Metrics) HashWait(d time.Duration) { m.hashWait.Observe(d.Seconds()) }

// StoreError counts a store failure.
func (m *Metrics) StoreError(error) { m.storeErrors.Inc() }

// WebhookAttempt counts a webhook delivery attempt.
func (m *Metrics) WebhookAttempt(name string, ok bool, _ time.Duration) {
	result := "ok"
	if !ok {
		result = "failed"
	}
	m.webhooks.WithLabelValues(name, result).Inc()
}

// Sessions are the portal's connections and sessions as a gauge reads them.
type Sessions struct {
	Connections, Drawing, Resting int
}

// WatchSessions reports the portal's connections and sessions at every
// scrape.
func (m *Metrics) WatchSessions(read func() Sessions) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sspr_connections_open", Help: "Open SSH connections."},
			func() float64 { return float64(read().Connections) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sspr_sessions_drawing",
			Help: "Sessions running their TUI."}, func() float64 { return float64(read().Drawing) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sspr_sessions_resting",
			Help: "Sessions resting on the welcome screen without a renderer."},
			func() float64 { return float64(read().Resting) }))
}

// WatchOutbox reports the queued outbox rows by kind at every scrape.
func (m *Metrics) WatchOutbox(depth func(ctx context.Context) (map[string]int64, error)) {
	m.reg.MustRegister(&outboxCollector{depth: depth, desc: prometheus.NewDesc("sspr_outbox_depth",
		"Messages and webhook events waiting in the outbox, by kind.", []string{"kind"}, nil)})
}

type outboxCollector struct {
	depth func(ctx context.Context) (map[string]int64, error)
	desc  *prometheus.Desc
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	depth, err := c.depth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, kind := range []string{"code", "notification", "webhook"} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(depth[kind]), kind)
	}
}

// Draining marks the process as leaving: /readyz says so from now on.
func (m *Metrics) Draining() { m.draining.Store(true) }

// Handler serves /metrics, /healthz (the process answers) and /readyz
// (not draining, and ready says the store answers).
func (m *Metrics) Handler(ready func(ctx context.Context) error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if m.draining.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}

// Serve serves Handler on l until ctx ends.
func (m *Metrics) Serve(ctx context.Context, l net.Listener, ready func(ctx context.Context) error) error {
	srv := &http.Server{Handler: m.Handler(ready), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
