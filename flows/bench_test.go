package flows_test

// Benchmarks of issue 2:
//
//	go test ./flows/ -run '^$' -bench 'FullReset|Argon2Hashes|ResetVsHashes' -benchtime 20x
//	go test ./flows/ -run '^$' -bench '100k' -benchtime 1x
//	go test ./flows/ -run '^$' -bench ConcurrentPasswordChecks -benchtime 5x
//
// A reset at the default argon2id cost computes six derivations (see
// resetHashes); BenchmarkArgon2Hashes computes just those, so the ratio of
// the two is what the reset adds to its hashing. BenchmarkFullReset/cheap
// runs the same reset with the cheapest argon2id parameters, which measures
// that addition directly.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/password"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// defaultParams is the argon2id cost sspr ships with (OWASP's minimum,
// m=19 MiB, t=2, p=1), taken from the configuration's defaults so the
// benchmarks measure what a server runs.
func defaultParams() password.Params {
	h := config.Default().Hash
	return password.Params{MemoryKiB: h.MemoryKiB, Time: h.Time, Threads: h.Threads}
}

// resetPassword makes the n-th distinct new password for the benchmarks: 28
// characters, like the harness's "correct horse battery staple". Length
// matters to the rest of a reset: zxcvbn's cost grows with its square.
func resetPassword(n int64) string {
	return fmt.Sprintf("violet kettle %06d harbour", n)
}

var resetCounter atomic.Int64

// benchReset runs one full self-service reset by emailed code.
func benchReset(tb testing.TB, h *flowstest.Harness, username string) {
	ctx := context.Background()
	rs, err := h.Svc.StartReset(ctx, username, "kiosk-bench")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email); err != nil {
		tb.Fatal(err)
	}
	p, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.NewestCode())
	if err != nil || !p.Done {
		tb.Fatalf("verify: %+v %v", p, err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, resetPassword(resetCounter.Add(1))); err != nil {
		tb.Fatal(err)
	}
}

// resetHashes is the number of argon2id derivations one reset computes once
// the password history is full: CompleteReset → setPassword verifies the new
// password against the newest password_history (policy default 5) hashes —
// the current hash is among them, since every set password is added to the
// history, so it is not verified a second time — and then hashes it once.
// Identify, send and verify compute none (codes are HMAC-SHA-256).
const resetHashes = 5 + 1

// newResetEnv makes a user with a registered email and a full password
// history, so every timed reset checks the whole history.
func newResetEnv(b *testing.B, p password.Params) *flowstest.Harness {
	return newResetEnvOn(b, flowstest.Options{Params: p})
}

// newResetEnvOn is newResetEnv with the harness's options.
func newResetEnvOn(b *testing.B, o flowstest.Options) *flowstest.Harness {
	b.Helper()
	ctx := context.Background()
	e := flowstest.New(b, o)
	if _, err := e.Svc.AddUser(ctx, e.Admin, flows.NewUser{Username: "alice", DisplayName: "Alice Example",
		Email: "alice@example.com", Password: flowstest.Password}); err != nil {
		b.Fatal(err)
	}
	e.RegisterVerified(b, "alice", policy.Email, "alice@example.com")
	pol, err := e.Svc.Policy(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if pol.PasswordHistory != resetHashes-1 {
		b.Fatalf("policy password_history = %d; resetHashes assumes %d", pol.PasswordHistory, resetHashes-1)
	}
	for range pol.PasswordHistory {
		benchReset(b, e, "alice")
	}
	return e
}

func BenchmarkFullReset(b *testing.B) {
	for _, tc := range []struct {
		name string
		p    password.Params
	}{
		{"default", defaultParams()},
		// The cheapest argon2id: what is left is everything but hashing.
		{"cheap", password.Params{MemoryKiB: 8, Time: 1, Threads: 1}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := newResetEnv(b, tc.p)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuNow()
			for range b.N {
				benchReset(b, e, "alice")
			}
			// CPU time is what sizes a portal: on a shared machine wall
			// time also counts the waits for a core.
			b.ReportMetric(float64(cpuNow()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// BenchmarkArgon2Hashes computes the derivations a full reset computes:
// resetHashes-1 verifications against real hashes of other passwords, then
// one hash, one after the other as setPassword does.
func BenchmarkArgon2Hashes(b *testing.B) {
	ctx := context.Background()
	h := password.NewHasher(defaultParams(), 0)
	history := make([]string, resetHashes-1)
	for i := range history {
		var err error
		if history[i], err = h.Hash(ctx, resetPassword(int64(-1-i))); err != nil {
			b.Fatal(err)
		}
	}
	pw := resetPassword(-100)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		reused, err := h.InHistory(ctx, pw, history)
		if err != nil || reused {
			b.Fatal(reused, err)
		}
		if _, err := h.Hash(ctx, pw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResetVsHashes alternates a full reset and the derivations it
// computes (as BenchmarkArgon2Hashes) in one loop, so both see the same load
// on a shared machine, and reports their ratio and the difference.
func BenchmarkResetVsHashes(b *testing.B) {
	ctx := context.Background()
	e := newResetEnv(b, defaultParams())
	history := make([]string, resetHashes-1)
	for i := range history {
		var err error
		if history[i], err = e.Hasher.Hash(ctx, resetPassword(int64(-1-i))); err != nil {
			b.Fatal(err)
		}
	}
	pw := resetPassword(-100)
	hashes := func() {
		if reused, err := e.Hasher.InHistory(ctx, pw, history); err != nil || reused {
			b.Fatal(reused, err)
		}
		if _, err := e.Hasher.Hash(ctx, pw); err != nil {
			b.Fatal(err)
		}
	}
	var resetTime, hashTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		steps := []struct {
			run func()
			sum *time.Duration
		}{{func() { benchReset(b, e, "alice") }, &resetTime}, {hashes, &hashTime}}
		if i%2 == 1 {
			steps[0], steps[1] = steps[1], steps[0]
		}
		for _, st := range steps {
			t0 := time.Now()
			st.run()
			*st.sum += time.Since(t0)
		}
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / n / float64(time.Millisecond) }
	b.ReportMetric(ms(resetTime), "reset-ms")
	b.ReportMetric(ms(hashTime), "hashes-ms")
	b.ReportMetric(ms(resetTime-hashTime), "rest-ms")
	b.ReportMetric(float64(resetTime)/float64(hashTime), "ratio")
}

// BenchmarkResetEngines times the work of a full reset besides hashing
// (the cheapest argon2id, as BenchmarkFullReset/cheap) on SQLite and on
// PostgreSQL over loopback, alternating the two in one loop so that both see
// the same load on a shared machine, and reports each and their difference
// in wall time (sqlite-ms, postgres-ms, diff-ms), the CPU time of this
// process for each (sqlite-cpu-ms, postgres-cpu-ms) and the CPU time of the
// PostgreSQL server processes that served the reset (server-cpu-ms, read
// from /proc: the server runs on this machine).
//
//	go test ./flows/ -run '^$' -bench ResetEngines -benchtime 300x -count 5
func BenchmarkResetEngines(b *testing.B) {
	engines := []store.Engine{store.SQLite, store.Postgres}
	backends := &backendLog{pids: map[uint32]bool{}}
	envs := []*flowstest.Harness{
		newResetEnvOn(b, flowstest.Options{Params: cheapParams, Engine: store.SQLite}),
		newResetEnvOn(b, flowstest.Options{Params: cheapParams, Engine: store.Postgres, Tracer: backends}),
	}
	spent := make([]time.Duration, len(engines))
	cpu := make([]int64, len(engines))
	var server time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		for j := range engines {
			i := (j + n) % len(engines)
			var server0 time.Duration
			if engines[i] == store.Postgres {
				server0 = backends.cpu()
			}
			c0, t0 := cpuNow(), time.Now()
			benchReset(b, envs[i], "alice")
			spent[i] += time.Since(t0)
			cpu[i] += cpuNow() - c0
			if engines[i] == store.Postgres {
				server += backends.cpu() - server0
			}
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
	b.ReportMetric(ms(spent[0]), "sqlite-ms")
	b.ReportMetric(ms(spent[1]), "postgres-ms")
	b.ReportMetric(ms(spent[1]-spent[0]), "diff-ms")
	b.ReportMetric(ms(time.Duration(cpu[0])), "sqlite-cpu-ms")
	b.ReportMetric(ms(time.Duration(cpu[1])), "postgres-cpu-ms")
	b.ReportMetric(ms(server), "server-cpu-ms")
}

// backendLog notes the process ids of the PostgreSQL server processes that
// a store's connections talk to, as a pgx tracer.
type backendLog struct {
	mu   sync.Mutex
	pids map[uint32]bool
}

func (l *backendLog) TraceQueryStart(ctx context.Context, c *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	l.pids[c.PgConn().PID()] = true
	l.mu.Unlock()
	return ctx
}

func (l *backendLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// cpu is the CPU time the noted server processes have used, from
// /proc/PID/stat (utime and stime, in clock ticks of 10 ms); 0 where there
// is no /proc.
func (l *backendLog) cpu() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var total time.Duration
	for pid := range l.pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The fields after the command's closing parenthesis: utime and
		// stime are the 12th and 13th.
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		for _, v := range f[11:13] {
			ticks, _ := strconv.ParseInt(v, 10, 64)
			total += time.Duration(ticks) * 10 * time.Millisecond
		}
	}
	return total
}

const bulkUsers = 100_000

var (
	bulkOnce sync.Once
	bulkCSV  []byte
)

// bulkImportCSV returns an import file of 100,000 users; every tenth is in
// the group "staff", every hundredth an administrator.
func bulkImportCSV() []byte {
	bulkOnce.Do(func() {
		var buf bytes.Buffer
		buf.WriteString(strings.Join(flows.ImportHeader, ",") + "\n")
		for i := range bulkUsers {
			groups, admin := "", "false"
			if i%10 == 0 {
				groups = "staff"
			}
			if i%100 == 0 {
				admin = "true"
			}
			fmt.Fprintf(&buf, "user%06d,\"Example, User %06d\",user%06d@example.com,+1555%07d,%s,%s\n",
				i, i, i, i, groups, admin)
		}
		bulkCSV = buf.Bytes()
	})
	return bulkCSV
}

// importBulk imports the 100,000 users into a fresh service.
func importBulk(tb testing.TB, e *flowstest.Harness) {
	tb.Helper()
	ctx := context.Background()
	res, err := e.Svc.ImportUsers(ctx, e.Admin, bytes.NewReader(bulkImportCSV()), flows.ImportOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	if res.Imported != bulkUsers {
		tb.Fatalf("imported %d users", res.Imported)
	}
}

// cheapParams keeps the setup of the bulk benchmarks fast; they hash nothing.
var cheapParams = password.Params{MemoryKiB: 8, Time: 1, Threads: 1}

func BenchmarkImport100k(b *testing.B) {
	if testing.Short() {
		b.Skip("slow: 100,000 users")
	}
	bulkImportCSV()
	b.SetBytes(int64(len(bulkCSV)))
	backends := &backendLog{pids: map[uint32]bool{}}
	var cpu int64
	var server time.Duration
	for range b.N {
		b.StopTimer()
		e := flowstest.New(b, flowstest.Options{Params: cheapParams, Tracer: backends})
		if err := e.Svc.AddGroup(context.Background(), e.Admin, "staff"); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		c0, s0 := cpuNow(), backends.cpu()
		b.StartTimer()
		importBulk(b, e)
		b.StopTimer()
		cpu += cpuNow() - c0
		server += backends.cpu() - s0
		b.StartTimer()
	}
	// CPU time, this process's and, on PostgreSQL, the server's: on a
	// shared machine wall time also counts the waits for a core.
	b.ReportMetric(float64(cpu)/float64(b.N)/1e9, "cpu-s/op")
	b.ReportMetric(server.Seconds()/float64(b.N), "server-cpu-s/op")
}

func BenchmarkRegistrationReport100k(b *testing.B) {
	if testing.Short() {
		b.Skip("slow: 100,000 users")
	}
	ctx := context.Background()
	backends := &backendLog{pids: map[uint32]bool{}}
	e := flowstest.New(b, flowstest.Options{Params: cheapParams, Tracer: backends})
	if err := e.Svc.AddGroup(ctx, e.Admin, "staff"); err != nil {
		b.Fatal(err)
	}
	importBulk(b, e)
	// Three users in five registered an email, one in five also a phone:
	// two statements, which a PostgreSQL store's transaction deadline
	// allows where 80,000 upserts would not.
	err := e.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO methods (user_id, kind, destination, created_at, confirmed_at)
			SELECT id, 'email', 'u' || id || '@example.com', 1, 1 FROM users WHERE id % 5 < 3`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO methods (user_id, kind, destination, created_at, confirmed_at)
			SELECT id, 'sms', '+15551230000', 1, 1 FROM users WHERE id % 5 = 0`)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, scope := range []string{"all", "group"} {
		b.Run("scope="+scope, func(b *testing.B) {
			if scope == "group" {
				if _, err := e.Svc.SetPolicy(ctx, e.Admin, "enabled_group", "staff"); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := e.Svc.SetPolicy(ctx, e.Admin, "enabled_for", scope); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			b.ResetTimer()
			c0, s0 := cpuNow(), backends.cpu()
			for range b.N {
				lines, err := e.Svc.RegistrationReport(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if len(lines) != bulkUsers {
					b.Fatalf("%d lines", len(lines))
				}
			}
			b.ReportMetric(float64(cpuNow()-c0)/float64(b.N)/1e9, "cpu-s/op")
			b.ReportMetric((backends.cpu()-s0).Seconds()/float64(b.N), "server-cpu-s/op")
		})
	}
}

// heapSampler records, while it runs, the peak of the Go heap (bytes in
// live objects and in garbage not yet swept) and the peak of the live heap
// that the garbage collector measured at the end of each cycle.
type heapSampler struct {
	stop       chan struct{}
	done       chan struct{}
	peak, live uint64
}

var heapSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/gc/heap/live:bytes"},
}

func heapNow() (objects, live uint64) {
	s := slices.Clone(heapSamples)
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			objects, live := heapNow()
			h.peak, h.live = max(h.peak, objects), max(h.live, live)
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) finish() (peak, live uint64) {
	close(h.stop)
	<-h.done
	return h.peak, h.live
}

// BenchmarkConcurrentPasswordChecks100 runs 100 sign-ins at once (each one
// argon2id verification at the default cost) and reports, over the level
// before them, the peak growth of the Go heap (peak-heap-MiB, garbage
// included) and of the live heap measured by each GC cycle (peak-live-MiB),
// next to the hasher's MemoryBound (bound-MiB: slots × 19 MiB; slots default
// to the number of CPUs). Without the semaphore the 100 derivations would
// hold 100 × 19 MiB at once.
func BenchmarkConcurrentPasswordChecks100(b *testing.B) {
	for _, slots := range []int{0, 8} {
		name := fmt.Sprintf("slots=%d", slots)
		if slots == 0 {
			name = fmt.Sprintf("slots=NumCPU(%d)", runtime.NumCPU())
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			e := flowstest.New(b, flowstest.Options{Params: defaultParams(), Slots: slots})
			const pw = flowstest.Password
			if _, err := e.Svc.AddUser(ctx, e.Admin, flows.NewUser{Username: "alice", Password: pw}); err != nil {
				b.Fatal(err)
			}
			bound := e.Hasher.MemoryBound()
			var peak, peakLive uint64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				runtime.GC()
				base, baseLive := heapNow()
				sampler := startHeapSampler()
				b.StartTimer()
				var wg sync.WaitGroup
				var failed atomic.Int64
				for range 100 {
					wg.Go(func() {
						if _, err := e.Svc.SignIn(ctx, "alice", pw, "bench"); err != nil {
							failed.Add(1)
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				p, l := sampler.finish()
				if p > base {
					peak = max(peak, p-base)
				}
				if l > baseLive {
					peakLive = max(peakLive, l-baseLive)
				}
				if n := failed.Load(); n > 0 {
					b.Fatalf("%d sign-ins failed", n)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(peakLive)/(1<<20), "peak-live-MiB")
			b.ReportMetric(float64(bound)/(1<<20), "bound-MiB")
		})
	}
}
