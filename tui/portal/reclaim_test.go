package portal

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestReclaimAfterAWave: a wave of rests frees memory once, after the
// wave; a few rests alone do not pay for a full collection; a stopped
// reclaimer frees nothing.
func TestReclaimAfterAWave(t *testing.T) {
	var frees atomic.Int32
	r := &reclaimer{delay: 30 * time.Millisecond, minRests: 5, free: func() { frees.Add(1) }}
	for range 20 {
		r.rested()
	}
	waitFor := func(want int32) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for frees.Load() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d reclaims; want %d", frees.Load(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(1)
	for range 3 {
		r.rested()
	}
	time.Sleep(100 * time.Millisecond)
	waitFor(1)

	for range 10 {
		r.rested()
	}
	r.stop()
	time.Sleep(100 * time.Millisecond)
	waitFor(1)
}
