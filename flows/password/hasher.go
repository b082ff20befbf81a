// Package password hashes passwords (argon2id, PHC string form) and checks
// new passwords against the NIST SP 800-63B style rules of SECURITY.md.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// Error is the type of this package's sentinel errors; being a string type
// they are constants and nobody can reassign them.
type Error string

// Error implements the error interface.
func (e Error) Error() string { return string(e) }

const (
	// ErrMalformedHash is wrapped by every error about a stored hash that is
	// not a well-formed argon2id PHC string this package can verify.
	ErrMalformedHash Error = "malformed password hash"
	// ErrExceedsBound is wrapped when a stored hash asks for more memory than
	// the whole hashing budget (MemoryBound), so verifying it would break the
	// promise that hashing never uses more than that.
	ErrExceedsBound Error = "password hash exceeds the hashing memory bound"
	// ErrInvalidParams is wrapped by Params.Validate.
	ErrInvalidParams Error = "invalid argon2id parameters"
)

const (
	saltLen = 16
	keyLen  = 32

	// Limits on what a parsed PHC string may ask for. They keep a corrupt or
	// planted row from pinning a CPU for minutes (time) or from smuggling in
	// absurd lengths; memory is limited separately by the hasher's budget.
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
	maxTime    = 64

	phcPrefix = "$argon2id$v=19$"
)

// Params are the argon2id cost parameters.
type Params struct {
	// MemoryKiB is the memory cost in KiB (argon2 "m").
	MemoryKiB uint32
	// Time is the number of passes over the memory (argon2 "t").
	Time uint32
	// Threads is the degree of parallelism (argon2 "p").
	Threads uint8
}

// Validate reports whether argon2 can run with p; argon2 itself panics on
// values outside these ranges, so configuration is checked up front.
func (p Params) Validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("%w: threads must be at least 1", ErrInvalidParams)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: time must be between 1 and %d", ErrInvalidParams, maxTime)
	case p.MemoryKiB < 8*uint32(p.Threads):
		return fmt.Errorf("%w: memory must be at least 8 KiB per thread", ErrInvalidParams)
	}
	return nil
}

// deriveFunc computes the raw argon2id key; it is a field so tests can count
// how many derivations run at once without spending real memory.
type deriveFunc func(password, salt []byte, p Params, keyLen uint32) []byte

func argon2id(password, salt []byte, p Params, keyLen uint32) []byte {
	return argon2.IDKey(password, salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
}

// Hasher hashes and verifies passwords with argon2id. Every derivation holds
// slots of a semaphore sized to maxConcurrent, so a burst of requests queues
// instead of allocating maxConcurrent+N times the memory cost. It is safe for
// concurrent use.
type Hasher struct {
	params        Params
	maxConcurrent int
	// slots holds one token per running derivation at the configured memory
	// cost; a stored hash with a larger cost takes several.
	slots chan struct{}
	// multi serialises multi-slot acquisitions: two callers each holding part
	// of what they need would otherwise wait for each other forever.
	multi chan struct{}
	// dummy is a PHC string with the current params over random bytes; no
	// password matches it, and verifying against it costs what a real
	// verification costs.
	dummy  string
	derive deriveFunc
	// onWait hears how long each derivation waited for its slots.
	onWait atomic.Pointer[func(time.Duration)]
}

// ObserveWait makes f hear how long each derivation waited for a slot
// (operators watch the queue); nil stops it.
func (h *Hasher) ObserveWait(f func(time.Duration)) {
	if f == nil {
		h.onWait.Store(nil)
		return
	}
	h.onWait.Store(&f)
}

// NewHasher returns a Hasher that creates hashes with p and runs at most
// maxConcurrent derivations at once (runtime.NumCPU() when maxConcurrent <= 0).
// It panics if p is invalid (see Params.Validate), like regexp.MustCompile:
// parameters come from configuration that must be validated when loaded.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("password.NewHasher: %v", err))
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Hasher{
		params:        p,
		maxConcurrent: maxConcurrent,
		slots:         make(chan struct{}, maxConcurrent),
		multi:         make(chan struct{}, 1),
		dummy:         encodePHC(p, randomBytes(saltLen), randomBytes(keyLen)),
		derive:        argon2id,
	}
}

// Params returns the parameters new hashes are created with.
func (h *Hasher) Params() Params { return h.params }

// MemoryBound returns the peak memory, in bytes, that argon2 working memory of
// this hasher can reach: maxConcurrent × MemoryKiB × 1024. Hashes with a larger
// memory cost take proportionally more slots, so the bound holds for them too.
func (h *Hasher) MemoryBound() int64 {
	return int64(h.maxConcurrent) * int64(h.params.MemoryKiB) * 1024
}

// Hash returns the argon2id PHC string of password with a fresh random salt.
// It waits for a free slot and returns the context's error if ctx ends first.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := randomBytes(saltLen)
	key, err := h.run(ctx, []byte(password), salt, h.params, keyLen)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return encodePHC(h.params, salt, key), nil
}

// Verify reports whether password matches the PHC string phc. The cost
// parameters are read from phc itself, so hashes made under older settings
// keep verifying. A malformed phc gives an error wrapping ErrMalformedHash.
func (h *Hasher) Verify(ctx context.Context, password, phc string) (bool, error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	got, err := h.run(ctx, []byte(password), salt, p, uint32(len(want)))
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// DummyVerify spends the work of a real Verify on a hash that matches nothing,
// so that a reset for an unknown account takes about as long as for a real one
// and its timing does not reveal which accounts exist.
func (h *Hasher) DummyVerify(ctx context.Context, password string) {
	// The result is meaningless by construction and the only possible error is
	// ctx ending, which the caller sees on its own ctx.
	_, _ = h.Verify(ctx, password, h.dummy)
}

// NeedsRehash reports whether phc should be replaced by a fresh hash: it is
// malformed or was made with parameters or lengths other than the current ones.
func (h *Hasher) NeedsRehash(phc string) bool {
	p, salt, key, err := parsePHC(phc)
	return err != nil || p != h.params || len(salt) != saltLen || len(key) != keyLen
}

// InHistory reports whether password matches any of hashes (previous password
// hashes, newest first). It verifies them one by one and stops at the first
// match. Malformed entries do not hide a match among the others: they only
// cause an error when nothing matched, so the caller can decide whether a
// damaged history blocks the change.
func (h *Hasher) InHistory(ctx context.Context, password string, hashes []string) (bool, error) {
	var errs []error
	for i, phc := range hashes {
		ok, err := h.Verify(ctx, password, phc)
		switch {
		case err == nil && ok:
			return true, nil
		case err == nil:
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			// The remaining entries cannot be checked either.
			return false, fmt.Errorf("check password history: %w", err)
		default:
			errs = append(errs, fmt.Errorf("entry %d: %w", i, err))
		}
	}
	if len(errs) > 0 {
		return false, fmt.Errorf("check password history: %w", errors.Join(errs...))
	}
	return false, nil
}

// run derives the key for p while holding enough slots for p's memory cost.
// collectAboveKiB is the memory cost from which each derivation's garbage is
// collected at once.
const collectAboveKiB = 4096

func (h *Hasher) run(ctx context.Context, password, salt []byte, p Params, n uint32) ([]byte, error) {
	slots, err := h.slotsFor(p)
	if err != nil {
		return nil, err
	}
	if err := h.acquire(ctx, slots); err != nil {
		return nil, err
	}
	defer h.release(slots)
	key := h.derive(password, salt, p, n)
	// The derivation leaves MemoryKiB of garbage. Collect it before the slot
	// is handed on, so the next derivation does not stack its memory on top
	// of it: that is what keeps the process, not just the live heap, within
	// MemoryBound. The collection costs little next to the hash itself,
	// since the blocks hold no pointers to trace; below a few MiB the
	// garbage is too small to matter and the collection would cost more
	// than the hash.
	if p.MemoryKiB >= collectAboveKiB {
		runtime.GC()
	}
	return key, nil
}

// slotsFor returns how many slots a derivation with p occupies: one per
// MemoryKiB of the configured params, rounded up.
func (h *Hasher) slotsFor(p Params) (int, error) {
	per := uint64(h.params.MemoryKiB)
	n := (uint64(p.MemoryKiB) + per - 1) / per
	if n > uint64(h.maxConcurrent) {
		return 0, fmt.Errorf("%w: m=%d KiB, budget %d KiB", ErrExceedsBound, p.MemoryKiB, uint64(h.maxConcurrent)*per)
	}
	return max(int(n), 1), nil
}

// acquire takes n slots, giving back any it holds if ctx ends while waiting.
func (h *Hasher) acquire(ctx context.Context, n int) error {
	// Checked first because select picks at random among ready cases, and a
	// cancelled caller must not start a 19 MiB derivation.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wait for hashing slot: %w", err)
	}
	if f := h.onWait.Load(); f != nil {
		start := time.Now()
		defer func() { (*f)(time.Since(start)) }()
	}
	if n > 1 {
		select {
		case h.multi <- struct{}{}:
			defer func() { <-h.multi }()
		case <-ctx.Done():
			return fmt.Errorf("wait for hashing slot: %w", ctx.Err())
		}
	}
	for i := range n {
		select {
		case h.slots <- struct{}{}:
		case <-ctx.Done():
			h.release(i)
			return fmt.Errorf("wait for hashing slot: %w", ctx.Err())
		}
	}
	return nil
}

func (h *Hasher) release(n int) {
	for range n {
		<-h.slots
	}
}

// randomBytes returns n bytes from crypto/rand, whose Read never fails since
// Go 1.24 (it crashes the program rather than return predictable bytes).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("%sm=%d,t=%d,p=%d$%s$%s", phcPrefix, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// parsePHC parses "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>" strictly:
// canonical decimal numbers, unpadded canonical base64, lengths and costs
// within limits. Strictness means one hash has exactly one spelling.
func parsePHC(phc string) (Params, []byte, []byte, error) {
	bad := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	rest, ok := strings.CutPrefix(phc, phcPrefix)
	if !ok {
		return bad("not an argon2id v=19 PHC string")
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 3 {
		return bad("want params, salt and hash fields")
	}
	kv := strings.Split(fields[0], ",")
	if len(kv) != 3 {
		return bad("want m, t and p parameters")
	}
	var nums [3]uint64
	for i, name := range [3]string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return bad("parameters out of order or unknown")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != v {
			return bad("parameter " + name + " is not a canonical number")
		}
		nums[i] = n
	}
	if nums[2] > 255 {
		return bad("parallelism out of range")
	}
	p := Params{MemoryKiB: uint32(nums[0]), Time: uint32(nums[1]), Threads: uint8(nums[2])}
	if err := p.Validate(); err != nil {
		return bad(err.Error())
	}
	salt, ok := decodeB64(fields[1], minSaltLen, maxSaltLen)
	if !ok {
		return bad("salt is not canonical base64 of a valid length")
	}
	key, ok := decodeB64(fields[2], minKeyLen, maxKeyLen)
	if !ok {
		return bad("hash is not canonical base64 of a valid length")
	}
	return p, salt, key, nil
}

// decodeB64 decodes unpadded standard base64 and accepts it only if it is the
// canonical encoding of a value of minLen to maxLen bytes. The re-encoding
// check catches what the decoder tolerates: embedded CR/LF, non-zero trailing
// bits.
func decodeB64(s string, minLen, maxLen int) ([]byte, bool) {
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil || len(b) < minLen || len(b) > maxLen || base64.RawStdEncoding.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}
