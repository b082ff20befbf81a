package audit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/store"
)

// BenchmarkAppend writes one audit row per transaction into a real SQLite
// file, as a flow's s.record does, on a log that already holds 10,000 rows.
// Besides the time on the wall it reports the CPU time, which varies far
// less on a shared machine:
//
//	TMPDIR=/dev/shm go test ./flows/audit/ -run '^$' -bench 'Append$' -benchtime 20000x -cpu 1 -count 20
func BenchmarkAppend(b *testing.B) {
	db, err := store.Open(context.Background(), b.TempDir()+"/sspr.db")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	add := func(i int) {
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			_, err := chain.Append(ctx, tx, Entry{At: t0.Add(time.Duration(i) * time.Second), Event: EventVerifyFailed,
				Actor: "alice", Target: "alice", Source: "ssh:192.0.2.7", Outcome: OutcomeFailed,
				Detail: fmt.Sprintf(`{"method":"email","n":%d}`, i)})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10_000 {
		add(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuNow()
	for i := range b.N {
		add(i)
	}
	if cpu >= 0 {
		b.ReportMetric(float64(cpuNow()-cpu)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkLinks is the CPU an append spends on its links: the row's MAC
// and the head's.
func BenchmarkLinks(b *testing.B) {
	e := Entry{ID: 10_001, At: t0, Event: EventVerifyFailed, Actor: "alice", Target: "alice", Source: "ssh:192.0.2.7",
		Outcome: OutcomeFailed, Detail: `{"method":"email","n":10000}`, PrevHash: ZeroHash}
	b.ReportAllocs()
	for b.Loop() {
		e.Hash = chain.rowMAC(e.PrevHash, e)
		_ = chain.headMAC(e.ID, e.ID, e.Hash)
	}
}
