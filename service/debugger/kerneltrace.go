package debugger

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/tinydbg/tinydbg/service/api"
)

// Tracepoints in the kernel: a plain tracepoint (no condition, nothing
// collected but its arguments and "on N print" values) at a function's
// entry or a line is captured by a uprobe and the program never stops for
// it. While the program runs, its int3 bytes are lifted (the program's
// own bytes written back) and the probe is on; at each stop the probe
// goes, the int3 is put back and its kernel hits are added to its counts,
// so that the breakpoint is as the user set it whenever they can look.
// The hits are kept as the Thread a stop would have reported, so that a
// client prints them with the code that prints a stop's. Return
// tracepoints still stop.

// kernelTraces is the debugger's kernel tracepoints.
type kernelTraces struct {
	mu   sync.Mutex
	cur  *traceSet
	hits []api.Thread // not yet fetched
	lost uint64       // lost hits not yet reported, of sets already closed
}

// traceSet is one attached probe set and the tracepoints it serves.
type traceSet struct {
	kl   *KernelLog
	bps  []*api.Breakpoint // per spec of kl
	fns  []*api.Function
	args [][]argSlot   // per spec: where each argument's value is
	done chan struct{} // closed when the collector has ended
	lost uint64        // lost hits already counted
	// hits counts, per spec and goroutine, what the int3 would have
	// counted; they are added to the breakpoints' counts on release.
	hits []map[int64]uint64
}

// newLost returns the hits set lost since the last call.
func (set *traceSet) newLost() uint64 {
	n := set.kl.Lost()
	if n <= set.lost {
		return 0
	}
	d := n - set.lost
	set.lost = n
	return d
}

// argSlot is one argument of a tracepoint's function: the expression it
// is captured as (-1: a result, which has no value at the entry).
type argSlot struct {
	name  string
	expr  int
	flags api.VariableFlags
}

// errHasExtras is why a tracepoint that collects a stack, goroutine or
// locals stops rather than running in the kernel.
var errHasExtras = errors.New("it collects more than its arguments and values")

// SyncKernelTracepoints moves the plain tracepoints to the kernel (and
// those changed since back and forth), before the target resumes. It
// returns, per tracepoint left stopping, the reason.
func (d *Debugger) SyncKernelTracepoints() (map[int]string, error) {
	bps, err := d.Breakpoints()
	if err != nil {
		return nil, err
	}
	kt := d.kernelTraceState()
	kt.mu.Lock()
	var old []*api.Breakpoint
	if kt.cur != nil {
		old = kt.cur.bps
	}
	kt.mu.Unlock()
	users := map[uint64]int{} // address → enabled breakpoints there
	for _, b := range bps {
		if !b.Disabled {
			for _, a := range b.Addrs {
				users[a]++
			}
		}
	}
	var want []*api.Breakpoint
	why := map[int]string{}
	for _, b := range bps {
		if !b.Tracepoint || b.TraceReturn || b.Disabled {
			continue
		}
		shared := slices.ContainsFunc(b.Addrs, func(a uint64) bool { return users[a] > 1 })
		switch {
		case b.HitCond != "":
			why[b.ID] = "it has a hit condition"
		case b.Goroutine || b.Stacktrace > 0 || b.LoadLocals != nil || len(b.CustomCommands) > 0:
			why[b.ID] = errHasExtras.Error()
		case shared:
			why[b.ID] = "another breakpoint is at its address"
		default:
			want = append(want, b)
		}
	}
	if sameTracepoints(old, want) {
		return why, nil
	}
	if err := d.releaseKernelTraces(); err != nil {
		return nil, err
	}
	if len(want) == 0 {
		return why, nil
	}
	specs := make([]LogSpec, len(want))
	fns := make([]*api.Function, len(want))
	args := make([][]argSlot, len(want))
	for i, b := range want {
		fns[i], args[i], specs[i] = d.traceSpec(b)
	}
	// A condition's own probe goes first, then the int3 bytes: a uprobe
	// put over an int3 takes it for its own and would vanish when the
	// debugger restores the byte.
	if err := d.tracedConds(want, false); err != nil {
		d.tracedConds(want, true)
		return nil, err
	}
	if err := d.setInt3s(want, false); err != nil {
		d.setInt3s(want, true)
		d.tracedConds(want, true)
		return nil, err
	}
	kl, reasons, err := d.OpenKernelLogs(specs, api.DefaultLoadConfig, 0)
	if err != nil {
		d.setInt3s(want, true)
		d.tracedConds(want, true)
		for _, b := range want {
			why[b.ID] = err.Error()
		}
		return why, nil
	}
	for i, r := range reasons {
		if r != nil {
			d.setInt3s(want[i:i+1], true)
			d.tracedConds(want[i:i+1], true)
			why[want[i].ID] = r.Error()
		}
	}
	if kl == nil {
		return why, nil
	}
	var kept []*api.Breakpoint
	var keptFns []*api.Function
	var keptArgs [][]argSlot
	for i, b := range want {
		if reasons[i] == nil {
			kept, keptFns, keptArgs = append(kept, b), append(keptFns, fns[i]), append(keptArgs, args[i])
		}
	}
	want, fns, args = kept, keptFns, keptArgs
	set := &traceSet{kl: kl, bps: want, fns: fns, args: args, done: make(chan struct{}), hits: make([]map[int64]uint64, len(want))}
	for i := range set.hits {
		set.hits[i] = map[int64]uint64{}
	}
	kt.mu.Lock()
	kt.cur = set
	kt.mu.Unlock()
	go kt.collect(set)
	return why, nil
}

// sameTracepoints reports whether a and b are the same settings.
func sameTracepoints(a, b []*api.Breakpoint) bool {
	return slices.EqualFunc(a, b, func(x, y *api.Breakpoint) bool {
		return x.ID == y.ID && x.Cond == y.Cond && slices.Equal(x.Variables, y.Variables) && (x.LoadArgs == nil) == (y.LoadArgs == nil)
	})
}

// traceSpec is what tracepoint b captures: its arguments (when it loads
// them, as trace makes it) with their short configuration, then its
// "on N print" values as a stop loads them.
func (d *Debugger) traceSpec(b *api.Breakpoint) (*api.Function, []argSlot, LogSpec) {
	spec := LogSpec{Addrs: b.Addrs, Cond: b.Cond}
	var fn *api.Function
	var slots []argSlot
	if f := d.bi.PCToFunc(b.Addr); f != nil {
		fn = &api.Function{Name_: f.Name}
	}
	if b.LoadArgs != nil {
		if prog, err := d.program(); err == nil {
			names, results := prog.ArgNamesAt(b.Addr)
			for _, n := range names {
				slots = append(slots, argSlot{name: n, expr: len(spec.Exprs), flags: api.VariableArgument})
				spec.Exprs = append(spec.Exprs, n)
				spec.Cfgs = append(spec.Cfgs, *b.LoadArgs)
			}
			for _, n := range results {
				slots = append(slots, argSlot{name: n, expr: -1, flags: api.VariableReturnArgument})
			}
		}
	}
	for _, v := range b.Variables {
		spec.Exprs = append(spec.Exprs, v)
		spec.Cfgs = append(spec.Cfgs, api.DefaultLoadConfig)
	}
	return fn, slots, spec
}

// setInt3s puts the int3 bytes of bps back (on) or writes the program's
// own bytes over them: the debugger's breakpoints stay as they are, only
// their bytes are lifted while a uprobe sits there instead. An exited
// process has nothing to write.
func (d *Debugger) setInt3s(bps []*api.Breakpoint, on bool) error {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil
	}
	defer unlock()
	var errs []error
	for _, b := range bps {
		for _, a := range b.Addrs {
			code := []byte{0xcc}
			if !on {
				if code, err = d.readCode(a, 1); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			if _, err := t.Process().WriteMemory(a, code); err != nil {
				errs = append(errs, fmt.Errorf("breakpoint %d at %#x: %w", b.ID, a, err))
			}
		}
	}
	return errors.Join(errs...)
}

// tracedConds takes the kernel condition of each conditional breakpoint
// in bps off (on false) while the tracepoints' probes evaluate it in front
// of their capture, or puts it back (on true, as the breakpoint's settings
// say): its own uprobe would stop the program at the same address.
func (d *Debugger) tracedConds(bps []*api.Breakpoint, on bool) error {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil // an exited process has no probe to move
	}
	defer unlock()
	var errs []error
	for _, b := range bps {
		ub := d.bps[b.ID]
		if ub == nil || ub.pbp == nil || b.Cond == "" {
			continue
		}
		if on {
			d.applyCondMode(t, ub)
		} else if err := t.DropKernelCond(ub.pbp); err != nil {
			errs = append(errs, fmt.Errorf("breakpoint %d: %w", b.ID, err))
		}
	}
	return errors.Join(errs...)
}

// collect keeps the hits of set as threads stopped on a tracepoint.
func (kt *kernelTraces) collect(set *traceSet) {
	defer close(set.done)
	for h := range set.kl.Hits() {
		if h.Sync != nil {
			close(h.Sync)
			continue
		}
		b := set.bps[h.Log]
		set.hits[h.Log][h.Goroutine]++
		th := api.Thread{GoroutineID: h.Goroutine, Function: set.fns[h.Log], Breakpoint: b,
			BreakpointInfo: &api.BreakpointInfo{}}
		if h.Err != nil {
			th.BreakpointInfo.Variables = []api.Variable{{Name: "capture", Unreadable: h.Err.Error()}}
		} else {
			for _, s := range set.args[h.Log] {
				v := api.Variable{Name: s.name, Unreadable: "not known at the entry"}
				if s.expr >= 0 {
					v = logValue(h, s.expr, s.name)
				}
				v.Flags |= s.flags
				th.BreakpointInfo.Arguments = append(th.BreakpointInfo.Arguments, v)
			}
			for i, e := range b.Variables {
				th.BreakpointInfo.Variables = append(th.BreakpointInfo.Variables, logValue(h, len(h.Values)-len(b.Variables)+i, e))
			}
		}
		kt.mu.Lock()
		kt.hits = append(kt.hits, th)
		kt.mu.Unlock()
	}
}

// logValue is expression i of hit h as a variable called name.
func logValue(h LogHit, i int, name string) api.Variable {
	if h.Errs[i] != nil {
		return api.Variable{Name: name, Unreadable: h.Errs[i].Error()}
	}
	v := *h.Values[i]
	v.Name = name
	return v
}

// KernelTraceHits returns the kernel tracepoints' hits since the last
// call and how many the kernel lost meanwhile. With sync, on a stopped
// target, it first removes the probes, so that every hit made before the
// stop is in. It never waits for the target, so a client may call it
// while a continue runs.
func (d *Debugger) KernelTraceHits(sync bool) ([]api.Thread, uint64) {
	kt := d.kernelTraceState()
	if sync && !d.IsRunning() {
		// Stopped: the probes go (their last hits come in on the way)
		// and the breakpoints are as the user set them, counts included,
		// until the next SyncKernelTracepoints.
		d.releaseKernelTraces()
	}
	kt.mu.Lock()
	defer kt.mu.Unlock()
	hits, lost := kt.hits, kt.lost
	kt.hits, kt.lost = nil, 0
	if kt.cur != nil {
		lost += kt.cur.newLost()
	}
	return hits, lost
}

// releaseKernelTraces removes the kernel tracepoints' probes, puts their
// int3s back and counts their hits, so that the breakpoints are as the
// user set them.
func (d *Debugger) releaseKernelTraces() error {
	kt := d.kernelTraceState()
	kt.mu.Lock()
	set := kt.cur
	kt.mu.Unlock()
	if set == nil {
		return nil
	}
	err := errors.Join(d.closeKernelTraces(), d.setInt3s(set.bps, true), d.tracedConds(set.bps, true))
	d.mu.Lock()
	for i, b := range set.bps {
		if ub := d.bps[b.ID]; ub != nil {
			for g, n := range set.hits[i] {
				ub.total += n
				if ub.perG == nil {
					ub.perG = map[int64]uint64{}
				}
				ub.perG[g] += n
			}
		}
	}
	d.mu.Unlock()
	return err
}

// closeKernelTraces removes the kernel tracepoints' probes, keeping the
// hits not yet fetched and the count of those lost.
func (d *Debugger) closeKernelTraces() error {
	kt := d.kernelTraceState()
	kt.mu.Lock()
	set := kt.cur
	kt.cur = nil
	kt.mu.Unlock()
	if set == nil {
		return nil
	}
	err := set.kl.Close()
	<-set.done
	kt.mu.Lock()
	kt.lost += set.newLost()
	kt.mu.Unlock()
	if err != nil {
		return fmt.Errorf("removing tracepoint probes: %w", err)
	}
	return nil
}

// kernelTraceState returns this Debugger's tracepoint state. A follow-exec
// group swaps targets' states under tmu while the terminal polls for hits,
// so the pointer is read under it too.
func (d *Debugger) kernelTraceState() *kernelTraces {
	d.tmu.Lock()
	defer d.tmu.Unlock()
	return d.ktrace
}
