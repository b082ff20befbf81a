package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// memSample is a process's (or a process tree's) memory in KiB.
type memSample struct {
	pss, rss int64
	// hwm is the highest RSS the process (or tree) ever had (VmHWM): the
	// wave of connections before sessions settle.
	hwm   int64
	procs int
	// byName is PSS by command name (sshd, sh, sspr) when measuring a tree.
	byName map[string]int64
}

// readMem reads PSS (smaps_rollup) and RSS (status) of pid, or of pid and
// every process below it.
func readMem(pid int, tree bool) (memSample, error) {
	pids := []int{pid}
	if tree {
		pids = descendants(pid)
	}
	m := memSample{byName: map[string]int64{}}
	for _, p := range pids {
		pss, err := procField(fmt.Sprintf("/proc/%d/smaps_rollup", p), "Pss:")
		if err != nil {
			if p == pid {
				return m, err
			}
			continue // a process that just went away
		}
		rss, _ := procField(fmt.Sprintf("/proc/%d/status", p), "VmRSS:")
		hwm, _ := procField(fmt.Sprintf("/proc/%d/status", p), "VmHWM:")
		m.pss += pss
		m.rss += rss
		m.hwm += hwm
		m.procs++
		if name, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p)); err == nil {
			m.byName[strings.TrimSpace(string(name))] += pss
		}
	}
	return m, nil
}

func procField(path, field string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, field)
}

// descendants returns pid and every process below it.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(p)
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// statFields are the fields of /proc/PID/stat after the command name, or
// none when the process is gone.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	// The command name is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// cpuTicks is the user and system CPU time of pid (and, for a tree, of every
// process below it), in clock ticks.
func cpuTicks(pid int, tree bool) int64 {
	pids := []int{pid}
	if tree {
		pids = descendants(pid)
	}
	var total int64
	for _, p := range pids {
		// After the name: state(0) ppid(1) … utime(11) stime(12).
		f := statFields(p)
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += u + st
	}
	return total
}
