package main

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
)

// report is what a run found.
type report struct {
	o          options
	opened     int
	held       int
	firsts     []time.Duration
	handshakes []time.Duration
	shells     []time.Duration
	firstBytes []time.Duration
	resets     []time.Duration
	errs       map[string]int
	errSamples []string
	wall       time.Duration

	memBefore, memHeld, memPeak memSample
	memNote                     string
	// holdCPU is the server's CPU use while every session sat idle, in
	// percent of one core.
	holdCPU float64

	auditBefore, auditAfter int
	auditChecked            bool

	// portals counts by portal address, for runs over several.
	portals map[string]*portalCount
}

// portalCount is what the sessions sent to one portal saw.
type portalCount struct {
	opened, resets, errors, dropped int
}

// portal is addr's counts, made on first use.
func (r *report) portal(addr string) *portalCount {
	if r.portals == nil {
		r.portals = map[string]*portalCount{}
	}
	p, ok := r.portals[addr]
	if !ok {
		p = &portalCount{}
		r.portals[addr] = p
	}
	return p
}

func (r *report) errors() int {
	n := 0
	for _, c := range r.errs {
		n += c
	}
	return n
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func (r *report) print(f *os.File) {
	o := r.o
	fmt.Fprintf(f, "target            %s (%d sessions, %d connecting at once, from %d source addresses, %dx%d)\n",
		o.addrs.String(), o.sessions, o.parallel, o.sources, o.cols, o.rows)
	fmt.Fprintf(f, "sessions held     %d of %d (first frame seen by %d)\n", r.held, o.sessions, len(r.firsts))
	fmt.Fprintf(f, "first frame       p50 %s  p99 %s  max %s  (connect to first frame)\n",
		ms(percentile(r.firsts, 0.50)), ms(percentile(r.firsts, 0.99)), ms(percentile(r.firsts, 1)))
	fmt.Fprintf(f, "  phases p50      handshake %s, shell %s, first byte %s\n",
		ms(percentile(r.handshakes, 0.5)), ms(percentile(r.shells, 0.5)), ms(percentile(r.firstBytes, 0.5)))
	if o.reset {
		fmt.Fprintf(f, "resets completed  %d of %d  p50 %s  p99 %s\n", len(r.resets), o.sessions,
			ms(percentile(r.resets, 0.50)), ms(percentile(r.resets, 0.99)))
	}
	fmt.Fprintf(f, "errors            %d", r.errors())
	if len(r.errs) > 0 {
		keys := make([]string, 0, len(r.errs))
		for k := range r.errs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%d", k, r.errs[k]))
		}
		fmt.Fprintf(f, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(f)
	for _, e := range r.errSamples {
		fmt.Fprintf(f, "  e.g. %s\n", e)
	}
	if len(o.addrs) > 1 {
		for i, addr := range o.addrs {
			p := r.portal(addr)
			sent := o.sessions / len(o.addrs)
			if i < o.sessions%len(o.addrs) {
				sent++
			}
			fmt.Fprintf(f, "portal %-21s %d sessions, %d opened, %d resets, %d errors, %d dropped\n",
				addr, sent, p.opened, p.resets, p.errors, p.dropped)
		}
	}
	if o.serverPID > 0 {
		if r.memNote != "" {
			fmt.Fprintf(f, "server memory     %s\n", r.memNote)
		} else {
			per := func(a, b int64) string {
				if r.held == 0 {
					return "-"
				}
				return fmt.Sprintf("%.0f KiB", float64(a-b)/float64(r.held))
			}
			fmt.Fprintf(f, "server memory     PSS %d → %d KiB (peak %d), RSS %d → %d KiB, %d processes → %d\n",
				r.memBefore.pss, r.memHeld.pss, r.memPeak.pss, r.memBefore.rss, r.memHeld.rss, r.memBefore.procs, r.memHeld.procs)
			fmt.Fprintf(f, "per held session  PSS %s (peak %s), RSS %s\n",
				per(r.memHeld.pss, r.memBefore.pss), per(r.memPeak.pss, r.memBefore.pss), per(r.memHeld.rss, r.memBefore.rss))
			fmt.Fprintf(f, "  highest RSS     %d KiB, %s per session over the start (the wave of connections)\n",
				max(r.memPeak.hwm, r.memHeld.hwm), per(max(r.memPeak.hwm, r.memHeld.hwm), r.memBefore.rss))
			if o.hold > 0 {
				fmt.Fprintf(f, "server CPU idle   %.1f%% of one core while the sessions were held for %s\n", r.holdCPU, o.hold)
			}
			if o.tree {
				names := make([]string, 0, len(r.memHeld.byName))
				for n := range r.memHeld.byName {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					fmt.Fprintf(f, "  %-15s PSS %s per session\n", n, per(r.memHeld.byName[n], r.memBefore.byName[n]))
				}
			}
		}
	}
	if r.auditChecked {
		done := len(r.resets)
		got := r.auditAfter - r.auditBefore
		fmt.Fprintf(f, "audit             password.reset rows %d → %d: %d new for %d resets", r.auditBefore, r.auditAfter, got, done)
		if got != done {
			fmt.Fprintf(f, "  MISMATCH")
		}
		fmt.Fprintln(f)
	}
	fmt.Fprintf(f, "wall time         %s\n", r.wall.Round(time.Millisecond))
	if o.reset && r.wall > 0 {
		fmt.Fprintf(f, "reset rate        %.1f resets/s over the wall time\n", float64(len(r.resets))/r.wall.Seconds())
	}
}
