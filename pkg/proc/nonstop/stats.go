package nonstop

import (
	"sync"

	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// StatsRecorder sums the ptrace tracer's events into the figures of
// `trace --stats`: calls, and latencies paired per goroutine (the tracer
// pairs a return with its goroutine's innermost open call of the function,
// whatever thread either ran on), in the histograms the eBPF backend fills
// in the kernel. Feed Record to Run with a tracer that loads no values;
// Snapshot may be called from another goroutine meanwhile.
type StatsRecorder struct {
	mu    sync.Mutex
	index map[string]int
	funcs []event.FuncStats
}

// NewStatsRecorder makes a recorder for the functions named, in that
// order; events of other functions are ignored.
func NewStatsRecorder(names []string) *StatsRecorder {
	r := &StatsRecorder{index: make(map[string]int, len(names)), funcs: make([]event.FuncStats, len(names))}
	for i, n := range names {
		r.index[n] = i
		r.funcs[i].Function = n
	}
	return r
}

// Record adds one event; it never fails (its signature is Run's emit).
func (r *StatsRecorder) Record(ev *event.Event) error {
	if ev.Inlined {
		return nil // inlined copies have no frame to pair by; not counted
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.index[ev.Function]
	if !ok {
		return nil
	}
	fs := &r.funcs[i]
	switch {
	case ev.Kind == event.Call:
		fs.Calls++
	case ev.Unpaired:
		fs.Unpaired++
	default:
		fs.Hist.Add(ev.Duration)
	}
	return nil
}

// Snapshot copies the figures so far. Open is the calls not yet paired
// with a return: in flight, or abandoned by a panic.
func (r *StatsRecorder) Snapshot() []event.FuncStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]event.FuncStats(nil), r.funcs...)
	for i := range out {
		if n := out[i].Hist.Count(); out[i].Calls > n {
			out[i].Open = out[i].Calls - n
		}
	}
	return out
}
