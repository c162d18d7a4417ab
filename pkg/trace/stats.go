package trace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
	"github.com/tinydbg/tinydbg/pkg/proc/nonstop"
)

// FuncStats is one function's figures in `trace --stats`.
type FuncStats = event.FuncStats

// StatsResult is what RunStats measured: the final figures, and the
// summary of the trace (Events counts the calls and returns the figures
// were made of, whichever backend counted them: see statsEvents).
type StatsResult struct {
	Summary Summary
	Funcs   []FuncStats
	// Missed counts probe hits the kernel skipped (eBPF only): those
	// calls or returns are not in the figures.
	Missed uint64
	// Inlined counts the inlined copies of matching functions, which are
	// not counted: they have no frame of their own to pair by.
	Inlined int
	// ReadErr is set when the figures could not all be read from the
	// kernel: the table is then incomplete and says so.
	ReadErr error
}

// RunStats traces the program described by opts as Run does, but instead
// of events it counts the calls of each matching function and the
// latencies of their returns, paired per goroutine. The table is written
// to out every interval (never when 0) and at the end. The eBPF backend
// aggregates in the kernel; the ptrace backend computes the same figures
// from its events.
func RunStats(ctx context.Context, opts Options, interval time.Duration, out io.Writer) (res StatsResult, err error) {
	res.Summary.Backend = "ptrace"
	if opts.EBPF {
		res.Summary.Backend = "ebpf"
	}
	if _, err := regexp.Compile(opts.Regexp); err != nil {
		return res, fmt.Errorf("invalid regexp %q: %w", opts.Regexp, err)
	}
	if interval < 0 {
		return res, fmt.Errorf("--interval must be 0 or more, got %s", interval)
	}
	if opts.Cond != "" {
		// Neither backend's aggregation filters calls yet (the kernel's
		// counts every call): figures over all calls must not pass for
		// the condition's.
		return res, errStatsCond
	}
	if opts.EBPF {
		err = runStatsEBPF(ctx, opts, interval, out, &res)
	} else {
		err = runStatsPtrace(ctx, opts, interval, out, &res)
	}
	if res.Summary.Probes > 0 {
		if werr := writeStats(out, "final", res); err == nil && werr != nil {
			err = &WriteError{Err: werr}
		}
	}
	return res, err
}

// statsEvents is the summary's event count under --stats: every call and
// every return the figures count (paired or not). The eBPF backend sends
// no event to user space, so the count comes from the figures on both
// backends and means the same on both.
func statsEvents(funcs []FuncStats) uint64 {
	var n uint64
	for _, f := range funcs {
		n += f.Calls + f.Hist.Count() + f.Unpaired
	}
	return n
}

// errStatsCond refuses --stats with --if, before anything starts.
var errStatsCond = errors.New("--stats does not apply --if: drop --if, or trace without --stats to see the calls it selects")

// matchStats selects the out-of-line functions matching the pattern and
// counts the inlined copies left out.
func matchStats(bi *bininfo.BinaryInfo, re string, res *StatsResult) ([]*bininfo.Function, error) {
	funcs, insts, err := matchAll(bi, re)
	if err != nil {
		return nil, err
	}
	res.Inlined = len(insts)
	if len(funcs) == 0 {
		return nil, fmt.Errorf("%w %q out of line: --stats counts only calls with a frame of their own (%d inlined copies match)",
			errNoFuncs, re, len(insts))
	}
	res.Summary.Funcs = len(funcs)
	return funcs, nil
}

// every calls snap and writes the table every interval until stop is
// closed; it returns once it has stopped. A write error is kept for the
// caller and ends the ticking.
func every(interval time.Duration, stop <-chan struct{}, out io.Writer, snap func() StatsResult) (wait func() error) {
	done := make(chan error, 1)
	if interval <= 0 {
		done <- nil
		return func() error { return <-done }
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				done <- nil
				return
			case <-t.C:
				if err := writeStats(out, "interval", snap()); err != nil {
					done <- &WriteError{Err: err}
					return
				}
			}
		}
	}()
	return func() error { return <-done }
}

// runStatsEBPF runs the in-kernel aggregation on a started or attached
// process, as runEBPF does for events.
func runStatsEBPF(ctx context.Context, opts Options, interval time.Duration, out io.Writer, res *StatsResult) error {
	if err := ebpf.CheckPermissions(); err != nil {
		return err
	}
	tg, bi, err := openEBPFTarget(opts)
	if err != nil {
		return err
	}
	defer bi.Close()
	defer tg.Close()
	funcs, err := matchStats(bi, opts.Regexp, res)
	if err != nil {
		return err
	}
	st, err := ebpf.OpenStats(bi, tg.Pid(), funcs, false)
	if err != nil {
		return fmt.Errorf("attaching eBPF probes: %w", err)
	}
	res.Summary.Probes = st.Probes()
	snap := func() StatsResult {
		s, err := st.Snapshot()
		r := *res
		r.Funcs, r.Missed, r.ReadErr = s.Funcs, s.Missed, err
		return r
	}
	stop := make(chan struct{})
	wait := every(interval, stop, out, snap)
	runErr := tg.Release()
	var end ebpf.End
	if runErr == nil {
		end, runErr = tg.Wait(ctx)
	}
	close(stop)
	werr := wait()
	switch {
	case end.Exited:
		res.Summary.Exited, res.Summary.ExitCode, res.Summary.Signal, res.Summary.ExitUnknown = true, end.Code, end.Sig, end.UnknownCode
	case runErr == nil:
		res.Summary.Interrupted = true
	}
	closeErr := st.Close()
	s, _ := st.Snapshot() // after Close: what Close read, its error in closeErr
	res.Funcs, res.Missed, res.ReadErr = s.Funcs, s.Missed, closeErr
	res.Summary.Events = statsEvents(res.Funcs)
	res.Summary.Cost = Cost{Source: CostBPFRunTime, Hits: s.Runs, Time: s.RunTime}
	if s.RunErr != nil {
		res.Summary.Cost.Source, res.Summary.Cost.Missing = "", s.RunErr.Error()
	}
	return errors.Join(runErr, werr, closeErr)
}

// openEBPFTarget opens the binary and the process of an eBPF trace, the
// process held before its first instruction when it is started here, and
// sets the binary's load bias.
func openEBPFTarget(opts Options) (*ebpf.Process, *bininfo.BinaryInfo, error) {
	var tg *ebpf.Process
	path := opts.Exec
	var err error
	if opts.Pid != 0 {
		if tg, err = ebpf.Running(opts.Pid); err != nil {
			return nil, nil, err
		}
		if path, err = ebpf.Executable(opts.Pid); err != nil {
			tg.Close()
			return nil, nil, err
		}
	}
	bi, err := bininfo.Open(path)
	if err == nil {
		_, err = bi.DWARF()
		if err != nil {
			bi.Close()
			err = fmt.Errorf("%s: %w", path, err)
		}
	}
	if err != nil {
		if tg != nil {
			tg.Close()
		}
		return nil, nil, err
	}
	if tg == nil {
		if tg, err = launchEBPF(opts, path); err != nil {
			bi.Close()
			return nil, nil, err
		}
	}
	entry, err := ebpf.AuxvEntry(tg.Pid())
	if err != nil {
		tg.Close()
		bi.Close()
		return nil, nil, err
	}
	bi.SetLoadBias(entry - bi.EntryPoint())
	return tg, bi, nil
}

// runStatsPtrace computes the figures from the ptrace tracer's events,
// built without values.
func runStatsPtrace(ctx context.Context, opts Options, interval time.Duration, out io.Writer, res *StatsResult) (err error) {
	tg, err := start(opts)
	if err != nil {
		return err
	}
	finished := false
	defer func() { leaveUnfinished(tg, opts.Pid, finished, &err) }()
	bi := tg.BinInfo()
	d, err := bi.DWARF()
	if err != nil {
		return fmt.Errorf("%s: %w", bi.Path(), err)
	}
	funcs, err := matchStats(bi, opts.Regexp, res)
	if err != nil {
		return err
	}
	np, ok := tg.Process().(nonstop.Prober)
	if !ok {
		return errors.New("ptrace tracing needs the native backend")
	}
	pt, err := nonstop.New(tg, np, bi, godwarf.New(d), funcs, 0, event.Needs{})
	if err != nil {
		return err
	}
	res.Summary.Probes = pt.Probes()
	names := make([]string, len(funcs))
	for i, fn := range funcs {
		names[i] = fn.Name
	}
	rec := nonstop.NewStatsRecorder(names)
	snap := func() StatsResult {
		r := *res
		r.Funcs = rec.Snapshot()
		return r
	}
	stop := make(chan struct{})
	wait := every(interval, stop, out, snap)
	run, err := pt.Run(ctx, rec.Record)
	close(stop)
	werr := wait()
	res.Summary.Cost = ptraceCost(pt.Stopped())
	res.Funcs = rec.Snapshot()
	res.Summary.Events = statsEvents(res.Funcs)
	if err != nil {
		if errors.Is(err, proc.ErrProcessExited) {
			finished = true
		}
		return err
	}
	res.Summary.Interrupted = run.Interrupted
	if !run.Interrupted {
		finished = true
		res.Summary.Exited = true
		res.Summary.ExitCode, res.Summary.Signal = run.Stop.ExitCode, run.Stop.Signal
	}
	return werr
}
