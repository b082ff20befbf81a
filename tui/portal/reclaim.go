package portal

import (
	"sync"
	"time"
)

// Sessions come to rest in waves: a morning rush, or a thousand clients of
// a load test, each with a live program of about 600 KiB that becomes
// garbage a couple of seconds later. A portal full of resting sessions
// allocates almost nothing, so the Go runtime would not collect that
// garbage, nor hand its pages back to the system, for minutes. After a wave
// the portal does it at once.

// Defaults of the reclaimer.
const (
	// reclaimDelay is how long after the first rest of a wave memory is
	// returned: long enough for the wave to end.
	reclaimDelay = 5 * time.Second
	// reclaimMinRests is the smallest wave worth a full collection: about
	// 20 MiB of programs. Smaller ones are left to the runtime.
	reclaimMinRests = 32
)

// reclaimer returns memory to the system after a wave of rests, at most
// once per delay.
type reclaimer struct {
	delay    time.Duration
	minRests int
	free     func() // debug.FreeOSMemory outside tests

	mu      sync.Mutex
	pending int
	timer   *time.Timer
	stopped bool
}

// rested counts one session put to rest.
func (r *reclaimer) rested() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending++
	if r.timer == nil && !r.stopped {
		r.timer = time.AfterFunc(r.delay, r.run)
	}
}

func (r *reclaimer) run() {
	r.mu.Lock()
	n := r.pending
	r.pending = 0
	r.timer = nil
	r.mu.Unlock()
	if n >= r.minRests {
		r.free()
	}
}

// stop cancels a pending reclaim, for a server shutting down.
func (r *reclaimer) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}
