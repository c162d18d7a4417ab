package trace

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
)

// monotonicNow reads CLOCK_MONOTONIC, the clock of the eBPF timestamps.
func monotonicNow() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// runEBPF traces with the uprobe engine. The binary is opened once, from
// the program's own executable; the process is never under ptrace while
// probes fire (see ebpf.Process) and no probe ever stops it. Values are
// printed on the tracer's reader as soon as they are decoded; events are
// sent to the sink from their own goroutine, the only one writing to it.
func runEBPF(ctx context.Context, opts Options, sink Sink, sum Summary) (Summary, error) {
	// Permissions first: before a process is started, and in words rather
	// than the kernel's bare EPERM.
	if err := ebpf.CheckPermissions(); err != nil {
		return sum, err
	}
	var tg *ebpf.Process
	path := opts.Exec
	if opts.Pid != 0 {
		// The pidfd first: the executable read next is then surely the
		// one of the process the probes will filter on.
		var err error
		if tg, err = ebpf.Running(opts.Pid); err != nil {
			return sum, err
		}
		defer tg.Close()
		if path, err = ebpf.Executable(opts.Pid); err != nil {
			return sum, err
		}
	}
	bi, err := bininfo.Open(path)
	if err != nil {
		return sum, err
	}
	defer bi.Close()
	if _, err := bi.DWARF(); err != nil {
		return sum, fmt.Errorf("%s: %w", path, err)
	}
	if tg == nil {
		if tg, err = launchEBPF(opts, path); err != nil {
			return sum, err
		}
		defer tg.Close()
	}
	// Functions carry run-time addresses computed when first looked up,
	// so the load bias is set before anything is matched.
	entry, err := ebpf.AuxvEntry(tg.Pid())
	if err != nil {
		return sum, err
	}
	bi.SetLoadBias(entry - bi.EntryPoint())
	funcs, insts, err := matchAll(bi, opts.Regexp)
	if err != nil {
		return sum, err
	}
	if err := checkCondScope(bi, funcs, opts.Cond); err != nil {
		return sum, err
	}
	sum.Funcs = countFuncs(funcs, insts)

	eo := ebpf.DefaultOptions
	eo.Lossy = opts.Lossy
	eo.Condition = opts.Cond
	if opts.ringBytes > 0 {
		eo.RingBufferBytes = opts.ringBytes
	}
	// The converter below prints each value's tree and nothing else; an
	// observer sees the trees, which a reused text has none of.
	eo.ReuseText = opts.observe == nil
	eo.CheckReuse = opts.checkReuse
	eo.PointerDepth = opts.Depth
	if opts.Depth <= 0 {
		eo.PointerDepth = -1
	}
	base := monotonicNow()
	// Values are printed on the reader, as soon as they are loaded.
	observe := opts.observe
	conv := func(ev *Event, text *[]byte) {
		if observe != nil {
			observe(ev)
		}
		renderInto(ev, text)
	}
	tr, err := ebpf.OpenConverted(bi, tg.Pid(), funcs, insts, eo, conv)
	if err != nil {
		return sum, fmt.Errorf("attaching eBPF probes: %w", err)
	}
	var cut atomic.Uint64 // see deliverEBPF
	cut.Store(math.MaxUint64)
	var sent uint64
	sinkErr := make(chan error, 1)
	// A sink that fails (a full disk, a closed pipe) ends the trace as an
	// interrupt would.
	ctx, stopTrace := context.WithCancel(ctx)
	defer stopTrace()
	go func() {
		var err error
		sent, err = deliverEBPF(tr, sink, base, &cut, stopTrace)
		sinkErr <- err
	}()

	runErr := tg.Release()
	var end ebpf.End
	if runErr == nil {
		end, runErr = tg.Wait(ctx)
	}
	switch {
	case end.Exited:
		sum.Exited, sum.ExitCode, sum.Signal, sum.ExitUnknown = true, end.Code, end.Sig, end.UnknownCode
	case runErr == nil:
		sum.Interrupted = true
		// A process we leave running keeps calling while the probes go
		// one by one: the trace ends here, not at some later probe.
		cut.Store(monotonicNow())
	}
	closeErr := tr.Close()
	serr := <-sinkErr
	stats := tr.Stats()
	sum.Probes, sum.Events, sum.Dropped = stats.Probes, sent, stats.Dropped
	sum.Holds, sum.Held, sum.Unread, sum.Cut = stats.Holds, stats.Held, stats.Unread, stats.Cut
	sum.memo = stats.Memo
	sum.Cost = ebpfCost(stats, opts.Lossy)
	sum.Cond, sum.Filtered, sum.CondFaults = opts.Cond != "", stats.Filtered, stats.CondFaults
	if len(stats.LostByFunc) > 0 {
		sum.Lost = &stats.LostByFunc
	}
	for _, e := range []error{runErr, serr, closeErr} {
		if e != nil {
			return sum, e
		}
	}
	return sum, nil
}

// deliverEBPF completes and sends every event to sink, writing output in
// batches, at most flushInterval after an event. Events recorded after the
// cut (CLOCK_MONOTONIC, as the kernel stamps them) are dropped: while the
// probes of a live process are removed one by one, a call may still meet
// its entry probe and miss its return's. It drains events even after the
// sink failed (calling failed at once, which ends the trace), so that Close
// can finish, and returns how many events it sent and the sink's first
// error.
func deliverEBPF(tr batchSource, sink Sink, base uint64, cut *atomic.Uint64, failed func()) (sent uint64, _ error) {
	flush := holdFlushes(sink)
	if flush == nil {
		flush = func() error { return nil }
	}
	// The flush timer runs only while output waits: a ticker woke an
	// idle trace 100 times a second.
	timer := time.NewTimer(flushInterval)
	timer.Stop()
	defer timer.Stop()
	var tick <-chan time.Time
	var first error
	pending := false
	events := tr.Batches()
	// A sink that keeps nothing lets the next batch reuse this one's
	// storage, its values' text included.
	streams := keepsNothing(sink)
	for {
		select {
		case b, ok := <-events:
			if !ok {
				if first == nil && pending {
					first = writeErr(flush())
				}
				// The reader also stops on its own (a ring error, a
				// decoding failure): the trace must end then, or a held
				// program would wait for a reader that is gone.
				if failed != nil {
					failed()
				}
				return sent, first
			}
			for i := range b.Events {
				ev := &b.Events[i] // the batch is ours: no copy per event
				if first != nil || (uint64(ev.Time) > cut.Load() && ev.Err == nil) {
					continue // keep draining so Close can finish
				}
				sent++
				first = writeErr(sink.Event(finishEBPF(ev, base)))
				pending = true
			}
			if streams {
				tr.Recycle(b)
			} else {
				tr.Release(b)
			}
			if pending && tick == nil {
				timer.Reset(flushInterval)
				tick = timer.C
			}
		case <-tick:
			tick = nil
			if first == nil && pending {
				first = writeErr(flush())
				pending = false
			}
		}
		if first != nil && failed != nil {
			failed()
			failed = nil
		}
	}
}

// batchSource is the eBPF tracer as deliverEBPF uses it.
type batchSource interface {
	Batches() <-chan *ebpf.Batch
	Release(*ebpf.Batch)
	Recycle(*ebpf.Batch)
}

// convertEBPF completes an engine event for the sinks: its time from the
// start of tracing, and the text and type of every value.
func convertEBPF(ev Event, base uint64) *Event { return convertObserved(ev, base, nil) }

// convertObserved is convertEBPF that shows the decoded event to observe
// (when not nil) before its values become text.
func convertObserved(ev Event, base uint64, observe func(*Event)) *Event {
	return convertObservedAt(&ev, base, observe)
}

// convertObservedAt is convertObserved in place.
func convertObservedAt(out *Event, base uint64, observe func(*Event)) *Event {
	if finishEBPF(out, base).Err != nil {
		return out
	}
	if observe != nil {
		observe(out)
	}
	return render(out)
}

// finishEBPF completes an event whose values the reader printed (see
// runEBPF): its time from the start of tracing, and the text of one that
// could not be decoded.
func finishEBPF(ev *Event, base uint64) *Event {
	ev.Time -= time.Duration(base)
	if ev.Err != nil {
		ev.Values = []Value{{Name: "?", Value: fmt.Sprintf("(unreadable %v)", ev.Err)}}
	}
	return ev
}

// launchEBPF starts path with the native backend, held stopped before
// its first instruction until the probes are attached.
func launchEBPF(opts Options, path string) (*ebpf.Process, error) {
	np, err := native.Launch(native.LaunchConfig{Path: path, Args: opts.Args, Dir: opts.Dir,
		Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr})
	if err != nil {
		return nil, err
	}
	return ebpf.Started(np)
}
