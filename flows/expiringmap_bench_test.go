package flows

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/clock"
)

// BenchmarkPutFlow and BenchmarkPutSession insert into a service holding n
// live entries, the clock moving lifetime/n per insert so that n stay live
// as the oldest lapse: the steady state of a service starting n flows (or
// sign-ins) per lifetime. The time per insert, sweeps included, should not
// grow with n. Give it enough inserts for the clock to cross several sweep
// intervals at the largest n (20000 span six at n=100000):
//
//	go test ./flows/ -run '^$' -bench 'Put(Flow|Session)' -benchtime 20000x
func BenchmarkPutFlow(b *testing.B) {
	benchPut(b, FlowLifetime, func(s *Service, id string, at time.Time) {
		s.putFlow(&flow{id: id, created: at})
	})
}

func BenchmarkPutSession(b *testing.B) {
	benchPut(b, SessionLifetime, func(s *Service, id string, at time.Time) {
		s.putSession(&session{id: id, created: at})
	})
}

func benchPut(b *testing.B, lifetime time.Duration, put func(s *Service, id string, at time.Time)) {
	for _, n := range []int{100, 1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("live=%d", n), func(b *testing.B) {
			clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
			s := &Service{clock: clk, flows: newFlows(), sessions: newSessions()}
			step := lifetime / time.Duration(n)
			// Created a step apart, as in the steady state, so they lapse
			// one by one while the benchmark runs.
			start := clk.Now().Add(-lifetime)
			for i := range n {
				put(s, "seed"+strconv.Itoa(i), start.Add(time.Duration(i)*step))
			}
			ids := make([]string, 1<<16)
			for i := range ids {
				ids[i] = strconv.Itoa(i)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				clk.Advance(step)
				put(s, ids[i%len(ids)]+"."+strconv.Itoa(i/len(ids)), clk.Now())
			}
			b.StopTimer()
			f, ses := len(s.flows.entries), len(s.sessions.entries)
			if held := max(f, ses); held < n/2 || held > 2*n {
				b.Fatalf("%d entries held at the end, want about %d", held, n)
			}
		})
	}
}
