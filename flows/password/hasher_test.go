package password

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// fastParams keep real argon2 runs in tests to well under a millisecond.
var fastParams = Params{MemoryKiB: 64, Time: 1, Threads: 1}

// Reference vectors from the argon2 reference implementation
// (phc-winner-argon2, src/test.c), produced independently of x/crypto.
const (
	refCheap = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	ref64MiB = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"

	// wellFormed is a valid string at fastParams (it matches no password).
	wellFormed = "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzYWx0$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
)

// owaspParams is OWASP's minimum for argon2id, m=19 MiB, t=2, p=1: the
// cost sspr ships with (flows/config's default).
var owaspParams = Params{MemoryKiB: 19456, Time: 2, Threads: 1}

var phcShape = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fastParams, 2)
	for _, pw := range []string{"correct horse battery staple", "", "pässwörd ünïcödé 密码", strings.Repeat("x", 128)} {
		phc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash(%q): %v", pw, err)
		}
		if !phcShape.MatchString(phc) {
			t.Fatalf("Hash(%q) = %q, not a PHC string", pw, phc)
		}
		ok, err := h.Verify(ctx, pw, phc)
		if err != nil || !ok {
			t.Errorf("Verify(right password %q) = %v, %v; want true, nil", pw, ok, err)
		}
		ok, err = h.Verify(ctx, pw+"x", phc)
		if err != nil || ok {
			t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
		}
	}
}

func TestHashSaltsEachHash(t *testing.T) {
	h := NewHasher(fastParams, 1)
	a, _ := h.Hash(context.Background(), "same password")
	b, _ := h.Hash(context.Background(), "same password")
	if a == b {
		t.Fatal("two hashes of the same password are equal: salt is not random")
	}
}

func TestHashUsesParams(t *testing.T) {
	p := owaspParams
	h := NewHasher(p, 1)
	phc, err := h.Hash(context.Background(), "hunter2hunter2")
	if err != nil {
		t.Fatal(err)
	}
	m := phcShape.FindStringSubmatch(phc)
	if m == nil || m[1] != "19456" || m[2] != "2" || m[3] != "1" {
		t.Fatalf("Hash = %q, want m=19456,t=2,p=1", phc)
	}
	salt, err := base64.RawStdEncoding.DecodeString(m[4])
	if err != nil || len(salt) != 16 {
		t.Fatalf("salt %q: %d bytes, %v; want 16 bytes", m[4], len(salt), err)
	}
	key, err := base64.RawStdEncoding.DecodeString(m[5])
	if err != nil || len(key) != 32 {
		t.Fatalf("hash %q: %d bytes, %v; want 32 bytes", m[5], len(key), err)
	}
	// Recompute independently: proves the advertised params are the ones used.
	want := argon2.IDKey([]byte("hunter2hunter2"), salt, 2, 19456, 1, 32)
	if string(key) != string(want) {
		t.Fatal("stored hash does not equal argon2id with the advertised params")
	}
}

func TestVerifyReferenceVectors(t *testing.T) {
	ctx := context.Background()
	// The hasher's own params differ from the vectors': Verify must use the
	// params stored in each string.
	h := NewHasher(owaspParams, 4)
	for _, phc := range []string{refCheap, ref64MiB} {
		ok, err := h.Verify(ctx, "password", phc)
		if err != nil || !ok {
			t.Errorf("Verify(reference %q) = %v, %v; want true", phc, ok, err)
		}
		ok, err = h.Verify(ctx, "passwore", phc)
		if err != nil || ok {
			t.Errorf("Verify(wrong, %q) = %v, %v; want false", phc, ok, err)
		}
	}
}

func TestVerifyOldParamsAndNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(fastParams, 1)
	cur := NewHasher(Params{MemoryKiB: 128, Time: 2, Threads: 2}, 1)
	phc, err := old.Hash(ctx, "a long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := cur.Verify(ctx, "a long passphrase", phc); err != nil || !ok {
		t.Fatalf("hash made with old params: Verify = %v, %v; want true", ok, err)
	}
	if !cur.NeedsRehash(phc) {
		t.Error("NeedsRehash(old params) = false, want true")
	}
	if old.NeedsRehash(phc) {
		t.Error("NeedsRehash(current params) = true, want false")
	}
	if !cur.NeedsRehash("garbage") {
		t.Error("NeedsRehash(malformed) = false, want true")
	}
	if !old.NeedsRehash(refCheap) { // 8-byte salt, other params
		t.Error("NeedsRehash(reference vector) = false, want true")
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := NewHasher(fastParams, 1)
	valid := wellFormed
	if _, err := h.Verify(context.Background(), "x", valid); err != nil {
		t.Fatalf("control string refused: %v", err)
	}
	cases := map[string]string{
		"empty":            "",
		"bcrypt":           "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ012",
		"argon2i":          strings.Replace(valid, "argon2id", "argon2i", 1),
		"version 16":       strings.Replace(valid, "v=19", "v=16", 1),
		"no version":       strings.Replace(valid, "v=19$", "", 1),
		"missing hash":     valid[:strings.LastIndex(valid, "$")],
		"extra field":      valid + "$AAAA",
		"params reordered": strings.Replace(valid, "m=64,t=1,p=1", "t=1,m=64,p=1", 1),
		"param missing":    strings.Replace(valid, "m=64,t=1,p=1", "m=64,t=1", 1),
		"extra param":      strings.Replace(valid, "p=1", "p=1,k=2", 1),
		"leading zero":     strings.Replace(valid, "m=64", "m=064", 1),
		"plus sign":        strings.Replace(valid, "t=1", "t=+1", 1),
		"negative":         strings.Replace(valid, "t=1", "t=-1", 1),
		"overflow":         strings.Replace(valid, "m=64", "m=4294967296", 1),
		"zero time":        strings.Replace(valid, "t=1", "t=0", 1),
		"huge time":        strings.Replace(valid, "t=1", "t=4000000000", 1),
		"zero threads":     strings.Replace(valid, "p=1", "p=0", 1),
		"threads > 255":    strings.Replace(valid, "p=1", "p=256", 1),
		"memory < 8p":      strings.Replace(valid, "m=64,t=1,p=1", "m=15,t=1,p=2", 1),
		"padded salt":      strings.Replace(valid, "c29tZXNhbHRzYWx0", "c29tZXNhbHRzYWx0==", 1),
		"bad salt char":    strings.Replace(valid, "c29tZXNhbHRzYWx0", "c29tZXNhbHRzYWx!", 1),
		"short salt":       strings.Replace(valid, "c29tZXNhbHRzYWx0", "c29tZQ", 1),
		"url-safe base64":  strings.Replace(valid, "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "uIPnA4rEsF5h7TKyQwu9U1bMCHGi_4", 1),
		"short hash":       strings.Replace(valid, "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "nf65EOgLrQM", 1),
		"non-canonical":    strings.Replace(valid, "Gi/4", "Gi/5", 1),
		"newline in hash":  strings.Replace(valid, "$nf65", "$\nnf65", 1),
	}
	for name, phc := range cases {
		t.Run(name, func(t *testing.T) {
			ok, err := h.Verify(context.Background(), "x", phc)
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify(%q) = %v, %v; want false and ErrMalformedHash", phc, ok, err)
			}
		})
	}
}

func TestVerifyRefusesHashBeyondBound(t *testing.T) {
	h := NewHasher(fastParams, 4) // budget 256 KiB
	huge := "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	ok, err := h.Verify(context.Background(), "password", huge)
	if ok || !errors.Is(err, ErrExceedsBound) {
		t.Fatalf("Verify(4 GiB hash) = %v, %v; want ErrExceedsBound", ok, err)
	}
	// Exactly the budget is allowed: the reference m=256 needs all 4 slots.
	if ok, err := h.Verify(context.Background(), "password", refCheap); err != nil || !ok {
		t.Fatalf("Verify(hash at the bound) = %v, %v; want true", ok, err)
	}
}

func TestNewHasherRejectsInvalidParams(t *testing.T) {
	for _, p := range []Params{{MemoryKiB: 64, Time: 0, Threads: 1}, {MemoryKiB: 64, Time: 1}, {MemoryKiB: 7, Time: 1, Threads: 1}} {
		if err := p.Validate(); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidParams", p, err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%+v) did not panic", p)
				}
			}()
			NewHasher(p, 1)
		}()
	}
	if err := owaspParams.Validate(); err != nil {
		t.Errorf("Validate(owaspParams) = %v", err)
	}
}

func TestMemoryBound(t *testing.T) {
	if got, want := NewHasher(owaspParams, 4).MemoryBound(), int64(4*19456*1024); got != want {
		t.Errorf("MemoryBound() = %d, want %d", got, want)
	}
	if got, want := NewHasher(owaspParams, 0).MemoryBound(), int64(runtime.NumCPU())*19456*1024; got != want {
		t.Errorf("MemoryBound() with default concurrency = %d, want %d", got, want)
	}
}

// gate replaces the derivation with one that records how many run at once
// and blocks until released.
type gate struct {
	inFlight, peak, started atomic.Int32
	release                 chan struct{}
}

func newGate(h *Hasher) *gate {
	g := &gate{release: make(chan struct{})}
	h.derive = func(password, salt []byte, p Params, n uint32) []byte {
		cur := g.inFlight.Add(1)
		g.started.Add(1)
		for {
			old := g.peak.Load()
			if cur <= old || g.peak.CompareAndSwap(old, cur) {
				break
			}
		}
		// Bounded, so a broken semaphore fails the test instead of hanging it.
		select {
		case <-g.release:
		case <-time.After(10 * time.Second):
		}
		g.inFlight.Add(-1)
		return make([]byte, n)
	}
	return g
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSemaphoreLimitsConcurrency(t *testing.T) {
	const limit, callers = 3, 12
	h := NewHasher(fastParams, limit)
	g := newGate(h)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if _, err := h.Hash(context.Background(), "pw"); err != nil {
				t.Error(err)
			}
		})
	}
	waitFor(t, "the first derivations", func() bool { return g.inFlight.Load() == limit })
	// Give any derivation that slipped past the semaphore time to show up.
	time.Sleep(50 * time.Millisecond)
	if p := g.peak.Load(); p != limit {
		t.Fatalf("peak concurrency %d, want %d", p, limit)
	}
	close(g.release)
	wg.Wait()
	if p, s := g.peak.Load(), g.started.Load(); p != limit || s != callers {
		t.Fatalf("after release: peak %d, started %d; want %d, %d", p, s, limit, callers)
	}
}

func TestLargerStoredHashTakesMoreSlots(t *testing.T) {
	h := NewHasher(fastParams, 4)
	g := newGate(h)
	// m=256 at 64 KiB per slot: the whole budget.
	go func() { _, _ = h.Verify(context.Background(), "password", refCheap) }()
	waitFor(t, "the big verification", func() bool { return g.inFlight.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash while the budget is used up = %v, want deadline exceeded", err)
	}
	close(g.release)
}

func TestCancelWhileWaiting(t *testing.T) {
	h := NewHasher(fastParams, 1)
	g := newGate(h)
	go func() { _, _ = h.Hash(context.Background(), "first") }()
	waitFor(t, "the first hash", func() bool { return g.inFlight.Load() == 1 })

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := h.Verify(ctx, "second", wellFormed)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Verify after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Verify kept waiting after its context was cancelled")
	}
	if s := g.started.Load(); s != 1 {
		t.Fatalf("%d derivations started, want only the first", s)
	}
	close(g.release)

	// A context cancelled before the call never starts work, even with a
	// free slot (select would otherwise pick at random).
	waitFor(t, "the slot to free", func() bool { return g.inFlight.Load() == 0 })
	for range 20 {
		if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Hash(cancelled ctx) = %v, want context.Canceled", err)
		}
	}
	if s := g.started.Load(); s != 1 {
		t.Fatalf("a cancelled call started a derivation (%d started)", s)
	}
}

func TestCancelReleasesPartialSlots(t *testing.T) {
	h := NewHasher(fastParams, 4)
	g := newGate(h)
	go func() { _, _ = h.Hash(context.Background(), "holder") }()
	waitFor(t, "the holder", func() bool { return g.inFlight.Load() == 1 })
	// Needs 4 slots, gets 3, then gives up: those 3 must come back.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := h.Verify(ctx, "password", refCheap); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Verify = %v, want deadline exceeded", err)
	}
	for i := range 3 {
		go func() { _, _ = h.Hash(context.Background(), "more") }()
		waitFor(t, "a released slot", func() bool { return g.inFlight.Load() == int32(i+2) })
	}
	close(g.release)
}

func TestDummyVerifySpendsRealWork(t *testing.T) {
	h := NewHasher(fastParams, 1)
	var calls atomic.Int32
	var gotParams Params
	h.derive = func(password, salt []byte, p Params, n uint32) []byte {
		calls.Add(1)
		gotParams = p
		return argon2id(password, salt, p, n)
	}
	h.DummyVerify(context.Background(), "anything")
	if calls.Load() != 1 || gotParams != fastParams {
		t.Fatalf("DummyVerify ran %d derivations with %+v; want 1 with %+v", calls.Load(), gotParams, fastParams)
	}
	if ok, err := h.Verify(context.Background(), "", h.dummy); err != nil || ok {
		t.Fatalf("dummy hash: Verify = %v, %v; want a well-formed hash matching nothing", ok, err)
	}
}

func TestInHistory(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fastParams, 2)
	var history []string
	for _, pw := range []string{"first password", "second password", "third password"} {
		phc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, phc)
	}
	for _, pw := range []string{"first password", "third password"} {
		if in, err := h.InHistory(ctx, pw, history); err != nil || !in {
			t.Errorf("InHistory(%q) = %v, %v; want true", pw, in, err)
		}
	}
	if in, err := h.InHistory(ctx, "fourth password", history); err != nil || in {
		t.Errorf("InHistory(new) = %v, %v; want false", in, err)
	}
	if in, err := h.InHistory(ctx, "anything", nil); err != nil || in {
		t.Errorf("InHistory(empty history) = %v, %v; want false", in, err)
	}

	damaged := append([]string{"corrupt"}, history...)
	if in, err := h.InHistory(ctx, "second password", damaged); err != nil || !in {
		t.Errorf("match behind a corrupt entry: %v, %v; want true, nil", in, err)
	}
	if in, err := h.InHistory(ctx, "fourth password", damaged); in || !errors.Is(err, ErrMalformedHash) {
		t.Errorf("no match with a corrupt entry: %v, %v; want false, ErrMalformedHash", in, err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if in, err := h.InHistory(cancelled, "first password", history); in || !errors.Is(err, context.Canceled) {
		t.Errorf("InHistory(cancelled) = %v, %v; want false, context.Canceled", in, err)
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(owaspParams, 1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(owaspParams, 1)
	ctx := context.Background()
	phc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := h.Verify(ctx, "correct horse battery staple", phc); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkConcurrentVerify100 fires 100 verifications at once and samples the
// heap, to show the semaphore keeps peak memory near MemoryBound rather than
// at 100 × 19 MiB (reported as unbounded-MiB). The sampled peak includes
// argon2 blocks already released but not yet collected, so with GOGC=100 it
// can reach about twice the bound.
func BenchmarkConcurrentVerify100(b *testing.B) {
	h := NewHasher(owaspParams, 0)
	ctx := context.Background()
	phc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	for b.Loop() {
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if ok, err := h.Verify(ctx, "correct horse battery staple", phc); err != nil || !ok {
					b.Error(ok, err)
				}
			})
		}
		wg.Wait()
	}
	close(stop)
	<-sampled

	const mib = 1 << 20
	b.ReportMetric(float64(peak.Load()-min(base.HeapAlloc, peak.Load()))/mib, "peak-MiB")
	b.ReportMetric(float64(h.MemoryBound())/mib, "bound-MiB")
	b.ReportMetric(100*float64(h.Params().MemoryKiB)*1024/mib, "unbounded-MiB")
}

// FuzzParsePHC checks that the parser never panics, that everything it accepts
// is within limits and re-encodes to exactly the input (one spelling per
// hash), and that accepted cheap strings verify without error.
func FuzzParsePHC(f *testing.F) {
	for _, s := range []string{refCheap, ref64MiB, wellFormed, "", "$argon2id$v=19$m=1,t=1,p=1$$"} {
		f.Add(s)
	}
	h := NewHasher(fastParams, 1)
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parsePHC(%q) error %v does not wrap ErrMalformedHash", s, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsePHC(%q) accepted invalid params: %v", s, err)
		}
		if len(salt) < minSaltLen || len(salt) > maxSaltLen || len(key) < minKeyLen || len(key) > maxKeyLen {
			t.Fatalf("parsePHC(%q) accepted salt %d / hash %d bytes", s, len(salt), len(key))
		}
		if got := encodePHC(p, salt, key); got != s {
			t.Fatalf("parsePHC(%q) re-encodes to %q", s, got)
		}
		if p.MemoryKiB <= fastParams.MemoryKiB && p.Time <= 4 {
			if _, err := h.Verify(context.Background(), "pw", s); err != nil {
				t.Fatalf("Verify(%q) after successful parse: %v", s, err)
			}
		}
	})
}
