package storetest

import (
	"errors"
	"sync"
	"testing"
)

// AtOnce runs each of fns on its own goroutine, released together once all
// are ready, and returns their errors in order: the way two replicas meet
// in the database within the same millisecond.
func AtOnce(fns ...func() error) []error {
	errs := make([]error, len(fns))
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	ready.Add(len(fns))
	for i, fn := range fns {
		wg.Go(func() {
			ready.Done()
			<-start
			errs[i] = fn()
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	return errs
}

// ExactlyOnce fails t unless exactly one of errs is nil and every other is
// want.
func ExactlyOnce(t testing.TB, what string, errs []error, want error) {
	t.Helper()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, want):
			t.Fatalf("%s: %v, want %v", what, err, want)
		}
	}
	if ok != 1 {
		t.Fatalf("%s: succeeded %d times, want exactly once", what, ok)
	}
}
