package trace

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf"
)

// monotonicNow reads CLOCK_MONOTONIC, the clock of the eBPF timestamps.
func monotonicNow() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// runEBPF attaches the uprobe engine to the stopped target, then lets the
// program run under ptrace only for its lifetime (exit status, signals):
// no probe ever stops it. Events are converted on their own goroutine, the
// only one writing to the sink.
func runEBPF(ctx context.Context, opts Options, tg *proc.Target, bi *bininfo.BinaryInfo, funcs []*bininfo.Function,
	sink Sink, sum Summary, finished *bool) (Summary, error) {
	eo := ebpf.DefaultOptions
	eo.PointerDepth = opts.Depth
	if opts.Depth <= 0 {
		eo.PointerDepth = -1
	}
	base := monotonicNow()
	tr, err := ebpf.Open(bi, tg.Pid(), funcs, eo)
	if err != nil {
		return sum, fmt.Errorf("attaching eBPF probes: %w", err)
	}
	sinkErr := make(chan error, 1)
	go func() { sinkErr <- deliverEBPF(tr.Events(), sink, base) }()

	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			tg.Halt()
		case <-done:
		}
	}()
	var st proc.Stop
	var runErr error
	for {
		if ctx.Err() != nil {
			sum.Interrupted = true
			break
		}
		st, runErr = tg.Continue()
		if runErr != nil {
			break
		}
		if st.Reason == proc.StopExited || st.Reason == proc.StopKilled {
			*finished = true
			sum.Exited = true
			sum.ExitCode, sum.Signal = st.ExitCode, st.Signal
			break
		}
	}
	close(done)
	closeErr := tr.Close()
	serr := <-sinkErr
	stats := tr.Stats()
	sum.Probes, sum.Events, sum.Dropped = stats.Probes, stats.Events, stats.Dropped
	for _, e := range []error{runErr, serr, closeErr} {
		if e != nil {
			return sum, e
		}
	}
	return sum, nil
}

// deliverEBPF converts and sends every event to sink, writing output in
// batches, at most flushInterval after an event. It drains events even after the sink failed, so that Close can
// finish, and returns the sink's first error.
func deliverEBPF(events <-chan ebpf.Event, sink Sink, base uint64) error {
	flush := holdFlushes(sink)
	if flush == nil {
		flush = func() error { return nil }
	}
	ticker := time.NewTicker(flushInterval)
	defer ticker.Stop()
	var first error
	pending := false
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				if first == nil && pending {
					first = flush()
				}
				return first
			}
			if first != nil {
				continue // keep draining so Close can finish
			}
			first = sink.Event(convertEBPF(ev, base))
			pending = true
		case <-ticker.C:
			if first == nil && pending {
				first = flush()
				pending = false
			}
		}
	}
}

// convertEBPF turns an engine event into the tracer's event.
func convertEBPF(ev ebpf.Event, base uint64) *Event {
	out := &Event{
		Kind:      Call,
		Goroutine: ev.Goid,
		Thread:    ev.ThreadID,
		Time:      time.Duration(int64(ev.TimeNs - base)),
		Duration:  time.Duration(ev.DurationNs),
		Unpaired:  ev.Unpaired,
	}
	if ev.Kind == ebpf.Return {
		out.Kind = Return
	}
	if ev.Func != nil {
		out.Function = ev.Func.Name
	}
	if ev.Err != nil {
		out.Values = []Value{{Name: "?", Value: fmt.Sprintf("(unreadable %v)", ev.Err)}}
		return out
	}
	for _, v := range ev.Values {
		val := Value{Name: v.Name}
		switch {
		case v.Var == nil:
			val.Value = fmt.Sprintf("(unreadable %s)", v.Unavailable)
		default:
			val.Type = v.Var.Type
			val.Value = formatVar(v.Var)
		}
		out.Values = append(out.Values, val)
	}
	return out
}
