package flows

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// decoyShapeMaxAge is how long the shape of a typical account is used
// before it is worked out again, behind the requests that use it.
const decoyShapeMaxAge = time.Minute

// decoyShape is what a typical account looks like, so that an unknown name
// can look the same: the set of methods most people registered, and the
// email domain and calling code most of their addresses and numbers have.
type decoyShape struct {
	kinds       map[policy.Method]bool
	domain      string
	callingCode string
	at          time.Time
}

// shapeNow returns the shape of a typical account. The first call works it
// out; after that a stale shape is still used while a fresh one is worked
// out behind, so that no look-up waits on the scan. Every flow calls it
// before it looks its name up, real or not, so the work is the same for
// every name.
func (s *Service) shapeNow(ctx context.Context) decoyShape {
	now := s.now()
	s.mu.Lock()
	shape, refreshing := s.shape, s.shapeRefreshing
	stale := !shape.at.IsZero() && now.Sub(shape.at) >= decoyShapeMaxAge
	if stale && !refreshing {
		s.shapeRefreshing = true
	}
	s.mu.Unlock()
	switch {
	case shape.at.IsZero():
		shape = s.workOutShape(ctx, now)
		s.mu.Lock()
		s.shape = shape
		s.mu.Unlock()
	case stale && !refreshing:
		ctx := context.WithoutCancel(ctx)
		s.behind.Add(1)
		go func() {
			defer s.behind.Done()
			fresh := s.workOutShape(ctx, now)
			s.mu.Lock()
			s.shape, s.shapeRefreshing = fresh, false
			s.mu.Unlock()
		}()
	}
	return shape
}

// workOutShape reads every registration and finds the most common set of
// methods, email domain and calling code. A store error gives the shape of
// an account with just an email address at example.com, rather than no
// decoy at all.
func (s *Service) workOutShape(ctx context.Context, now time.Time) decoyShape {
	shape := decoyShape{kinds: map[policy.Method]bool{policy.Email: true}, domain: "example.com", callingCode: "1", at: now}
	rows, err := store.RegisteredMethods(ctx, s.db)
	if err != nil {
		s.reportFault("work out the shape of a typical account", err)
		return shape
	}
	sets, domains, codes := map[string]int{}, map[string]int{}, map[string]int{}
	var kinds []string
	flush := func() {
		// Questions alone are no way through, so nobody real has that
		// shape: such a person walks the decoy path themselves.
		if len(kinds) > 0 && !(len(kinds) == 1 && !policy.Method(kinds[0]).Describe().CountsAlone) {
			sort.Strings(kinds)
			sets[strings.Join(kinds, ",")]++
		}
		kinds = kinds[:0]
	}
	var user int64
	for _, r := range rows {
		if r.UserID != user {
			flush()
			user = r.UserID
		}
		kinds = append(kinds, r.Kind)
		switch policy.Method(r.Kind).Describe().Channel {
		case policy.ChannelEmail:
			if i := strings.LastIndexByte(r.Destination, '@'); i >= 0 && i < len(r.Destination)-1 {
				domains[strings.ToLower(r.Destination[i+1:])]++
			}
		case policy.ChannelSMS:
			if cc, ok := e164CallingCode(r.Destination); ok {
				codes[cc]++
			}
		}
	}
	flush()
	if set := mostCommon(sets); set != "" {
		shape.kinds = map[policy.Method]bool{}
		for _, k := range strings.Split(set, ",") {
			shape.kinds[policy.Method(k)] = true
		}
	}
	if d := mostCommon(domains); d != "" {
		shape.domain = d
	}
	if c := mostCommon(codes); c != "" {
		shape.callingCode = c
	}
	return shape
}

// mostCommon returns the key counted most often; ties go to the smaller key,
// so the answer does not depend on map order.
func mostCommon(counts map[string]int) string {
	best, bestN := "", 0
	for k, n := range counts {
		if n > bestN || n == bestN && k < best {
			best, bestN = k, n
		}
	}
	return best
}

// makeDecoy turns f into the decoy path: the methods a typical account
// offers, with made-up destinations shaped like real ones for this name, and
// no way through.
func (s *Service) makeDecoy(ctx context.Context, f *flow, pol policy.Policy) error {
	f.decoy = true
	shape := s.shapeNow(ctx)
	f.options = nil
	proving := 0
	for _, kind := range policy.AllMethods() {
		d := kind.Describe()
		// What a connection proves is offered only to that connection, so
		// a decoy never shows it, whatever most people have.
		if !s.usable(pol, kind, false, f.kind) || !d.Issued && !shape.kinds[kind] || d.ByConnection {
			continue
		}
		o := MethodOption{Method: kind, Label: d.Label}
		switch d.Channel {
		case policy.ChannelEmail:
			o.Destination, o.SendsCode = s.decoyEmail(f.account, shape), true
		case policy.ChannelSMS:
			o.Destination, o.SendsCode = s.decoyPhone(f.account, shape), true
		}
		if !d.Issued && d.CountsAlone {
			proving++
		}
		f.options = append(f.options, o)
	}
	if proving == 0 {
		// Nobody has registered anything usable yet: offer what most
		// people would have, an emailed code where email can be sent, else
		// an authenticator.
		o := MethodOption{Method: policy.Authenticator, Label: policy.Authenticator.Label()}
		if s.canSend(policy.Email) {
			o = MethodOption{Method: policy.Email, Label: policy.Email.Label(),
				Destination: s.decoyEmail(f.account, shape), SendsCode: true}
		}
		f.options = append([]MethodOption{o}, f.options...)
	}
	if f.required < 1 {
		f.required = 1
	}
	return nil
}

// decoyEmail is the masked address a person of this name would most likely
// have: their name at the most common domain, masked as a real one is
// ("erin" gives "e•••n@example.com").
func (s *Service) decoyEmail(account string, shape decoyShape) string {
	local := account
	if i := strings.IndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	// Only what an address could hold: a name typed with characters no
	// address has (nobody real has such a name either) still looks like one.
	local = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-+", r) {
			return r
		}
		return -1
	}, local)
	if local == "" {
		local = "x"
	}
	return MaskEmail(local + "@" + shape.domain)
}

// decoyPhone is a masked number with the most common calling code and last
// digits that are the same every time for the same name, so a repeated
// look-up cannot tell it from a real one.
func (s *Service) decoyPhone(account string, shape decoyShape) string {
	mac := s.keys.MAC("decoy-phone", account)
	var last strings.Builder
	for i := 0; i < len(mac) && last.Len() < 4; i++ {
		last.WriteByte('0' + mac[i]%10)
	}
	return MaskPhone(fmt.Sprintf("+%s555%s", shape.callingCode, last.String()))
}

// decoyQuestions are the questions a person of this name would have
// registered: the same ones every time, drawn from the catalogue, so asking
// again shows the same pool, as it does for a real person.
func (s *Service) decoyQuestions(account string, n int) []string {
	pool := Questions(locale.Embedded().Source())
	seed := s.keys.MAC("decoy-questions", account)
	var key [32]byte
	copy(key[:], seed)
	r := rand.New(rand.NewChaCha8(key))
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	return pool[:min(n, len(pool))]
}
