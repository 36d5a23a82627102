// Package soakstat measures a process's resource use for soak tests (heap,
// stack, RSS, goroutines, descriptors) and bounds its growth over a run,
// so that the relay soak test and interop/soak judge leaks alike.
package soakstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
)

// ErrNoRSS means /proc/self/status has no usable VmRSS line.
var ErrNoRSS = errors.New("soakstat: no VmRSS in /proc/self/status")

// Figures are this process's resource use at one moment.
type Figures struct {
	HeapInuse  uint64 // bytes in in-use heap spans, after two GCs
	StackInuse uint64 // bytes of goroutine stacks
	RSS        uint64 // resident bytes, after freed memory went back to the OS
	Goroutines int
	FDs        int // open file descriptors
}

// Measure collects the figures. It runs the GC and returns free memory to
// the OS first, so that two measurements compare live data, not garbage.
func Measure() (Figures, error) {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	f := Figures{HeapInuse: m.HeapInuse, StackInuse: m.StackInuse, Goroutines: runtime.NumGoroutine()}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return f, err
	}
	if f.RSS, err = parseVmRSS(status); err != nil {
		return f, err
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return f, err
	}
	f.FDs = len(fds) - 1 // ReadDir's own descriptor
	return f, nil
}

// parseVmRSS finds "VmRSS:   1234 kB" in a /proc/<pid>/status file.
func parseVmRSS(status []byte) (uint64, error) {
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0, fmt.Errorf("%w: %q", ErrNoRSS, line)
		}
		kb, err := strconv.ParseUint(string(fields[0]), 10, 64)
		if err != nil || kb > 1<<50 {
			return 0, fmt.Errorf("%w: %q", ErrNoRSS, line)
		}
		return kb << 10, nil
	}
	return 0, ErrNoRSS
}

// String is the greppable form:
// "heap_bytes=… stack_bytes=… rss_bytes=… goroutines=… fds=…".
func (f Figures) String() string {
	return fmt.Sprintf("heap_bytes=%d stack_bytes=%d rss_bytes=%d goroutines=%d fds=%d", f.HeapInuse, f.StackInuse, f.RSS, f.Goroutines, f.FDs)
}

// Growth bounds how far an end figure may exceed the start one. Memory may
// grow by MemFactor times its start value plus a slack, for noise (GC
// timing, buffer pools, maps that grew once) rather than for a leak that
// scales with time or traffic; goroutines and descriptors only by their
// slack.
type Growth struct {
	MemFactor               float64
	HeapSlack, RSSSlack     uint64
	GoroutineSlack, FDSlack int
}

// CheckFlat returns an error naming every figure of end above its bound.
func (g Growth) CheckFlat(start, end Figures) error {
	var errs []error
	check := func(name string, s, e uint64, factor float64, slack uint64) {
		if limit := uint64(float64(s)*factor) + slack; e > limit {
			errs = append(errs, fmt.Errorf("soak: %s grew from %d to %d (bound %d)", name, s, e, limit))
		}
	}
	check("heap", start.HeapInuse, end.HeapInuse, g.MemFactor, g.HeapSlack)
	check("rss", start.RSS, end.RSS, g.MemFactor, g.RSSSlack)
	check("goroutines", uint64(start.Goroutines), uint64(end.Goroutines), 1, uint64(g.GoroutineSlack))
	check("fds", uint64(start.FDs), uint64(end.FDs), 1, uint64(g.FDSlack))
	return errors.Join(errs...)
}
