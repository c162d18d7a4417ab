package trace

import (
	"fmt"
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc/ebpf"
)

// Cost is what tracing cost the program, as the backend can measure it.
// The two backends measure different things, and Source names which, so
// that a reader never compares a handler's time with a kernel's.
type Cost struct {
	Source string // CostPtraceHandler or CostBPFRunTime; empty: not measured
	// Hits is how many times a probe ran; Time is what those runs took.
	Hits uint64
	Time time.Duration
	// Lossy is set when the eBPF backend never held the program.
	Lossy bool
	// Missing says why an eBPF trace has no run time (no CAP_SYS_ADMIN).
	Missing string
}

// Where a Cost comes from.
const (
	// CostPtraceHandler: the time each hit thread stayed stopped while
	// its event was built, timed around the probe handler. The int3 trap,
	// the ptrace round trips and the step over the displaced instruction
	// come on top.
	CostPtraceHandler = "timed around each probe handler; trap and ptrace round trips not included"
	// CostBPFRunTime: the kernel's run-time statistics of the BPF program
	// (BPF_ENABLE_STATS). The uprobe trap and the single-step of a
	// return site come on top.
	CostBPFRunTime = "kernel run-time statistics of the BPF program; uprobe trap not included"
)

func ptraceCost(hits uint64, stopped time.Duration) Cost {
	return Cost{Source: CostPtraceHandler, Hits: hits, Time: stopped}
}

func ebpfCost(st ebpf.Stats, lossy bool) Cost {
	c := Cost{Source: CostBPFRunTime, Hits: st.ProgRuns, Time: st.ProgTime, Lossy: lossy}
	if st.ProgStatsErr != nil {
		c.Source, c.Missing = "", st.ProgStatsErr.Error()
	}
	return c
}

// PerEvent is the cost divided over the events, or over the probe hits
// when no event reached user space (--stats counts in the kernel); 0
// without either.
func (s Summary) PerEvent() time.Duration {
	switch {
	case s.Events > 0:
		return s.Cost.Time / time.Duration(s.Events)
	case s.Cost.Hits > 0:
		return s.Cost.Time / time.Duration(s.Cost.Hits)
	}
	return 0
}

// CostLine says in one line what tracing cost the program: for ptrace the
// time threads were stopped in probes; for eBPF the time the program was
// held (lossless mode) and the time the kernel spent in the BPF program.
// Each figure names how it was measured.
func (s Summary) CostLine() string {
	line := "trace: cost: "
	if s.Backend == "ebpf" {
		if s.Cost.Lossy {
			line += "program never held (--lossy); "
		} else {
			line += fmt.Sprintf("program held %s for %s (lossless); ", plural(int(s.Holds), "time"), s.Held.Round(time.Microsecond))
		}
		if s.Cost.Source == "" {
			return line + "BPF run time not measured: " + s.Cost.Missing
		}
		return line + fmt.Sprintf("BPF program ran %s in %s, %s (%s)",
			roundDur(s.Cost.Time), plural(int(s.Cost.Hits), "probe hit"), s.perEventText(), s.Cost.Source)
	}
	return line + fmt.Sprintf("threads stopped %s in %s, %s (%s)",
		roundDur(s.Cost.Time), plural(int(s.Cost.Hits), "probe hit"), s.perEventText(), s.Cost.Source)
}

// perEventText is PerEvent as the cost line says it, naming the events it
// is over when they are not the hits (a condition filtered some).
func (s Summary) perEventText() string {
	if s.Events > 0 && s.Events != s.Cost.Hits {
		return fmt.Sprintf("%s per event over the %s", roundDur(s.PerEvent()), plural(int(s.Events), "event"))
	}
	return fmt.Sprintf("%s per event", roundDur(s.PerEvent()))
}

// roundDur keeps three significant digits or so: nanoseconds matter for a
// BPF program, not for a second-long hold.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(10 * time.Nanosecond)
	}
	return d
}
