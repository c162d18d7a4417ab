// Package nonstop traces function calls and returns through the ptrace
// backend's non-stop probe mode: an int3 at each entry, RET and tail jump,
// where only the thread that hits one stops, and only while its event is
// built. It is pkg/trace's ptrace backend, beside the eBPF engine.
package nonstop

import (
	"context"
	"fmt"
	"time"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/event"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// tracedFunc is one function under trace with its parameters' locations.
type tracedFunc struct {
	name             string
	args, results    []probe.Param
	argLocs, resLocs []probe.Location
	err              error // why its parameters could not be described
}

// site is one probe address: a function's entry, one of its RETs, both for
// a body that is a single RET, or a tail JMP that ends the call without
// its results; and the entries and exits of inlined copies there.
type site struct {
	fn               *tracedFunc
	call, retn, tail bool
	// exits and enters are the inlined copies that end and begin at the
	// address, reported before (exits, innermost first) and after
	// (enters, outermost first) the function's own events.
	exits, enters []*probe.Inlined
}

// openCall is a call whose return has not been seen yet.
type openCall struct {
	fn       *tracedFunc
	at       time.Duration
	filtered bool // its condition was false: neither it nor its return is reported
}

// Tracer reports probe hits from the native backend's non-stop probe
// mode: only the thread that hits a probe stops, and only while its event
// is built.
type Tracer struct {
	tg      *proc.Target
	np      Prober
	bi      *bininfo.BinaryInfo
	types   *godwarf.Types
	loader  value.Loader
	cfg     value.LoadConfig
	needs   event.Needs
	unw     *stack.Unwinder
	gids    *goroutine.IDReader
	sites   map[uint64]*site
	probes  []native.Probe
	open    map[int64][]openCall    // per goroutine, innermost last
	inl     map[int64][]openInlined // per goroutine
	stackHi int64                   // offset of g.stack.hi
	start   time.Time
	events  uint64
	// hits and stopped count probe hits and the time the hit threads
	// spent stopped in hit, building their events.
	hits    uint64
	stopped time.Duration
	cond    *condition // nil without --if
}

// Prober is what the tracer needs of the ptrace backend: its non-stop
// probe mode. The native backend's process provides it; the session that
// chose that backend hands it over.
type Prober interface {
	// RunProbes resumes the program and reports every hit of probes to
	// handler until the program ends or is halted.
	RunProbes(probes []native.Probe, handler native.ProbeHandler) (native.StopEvent, error)
}

// maxInstLen is the longest amd64 instruction: the bytes a probe displaces
// are within it.
const maxInstLen = 15

// New sets the entry, return and tail-jump probes of funcs in tg, whose
// process np runs the probes; depth bounds the pointers followed in values
// and needs says what each event carries. The original code under every
// probe is read before the first int3 is written, so no probe's bytes
// ever include another's breakpoint.
func New(tg *proc.Target, np Prober, bi *bininfo.BinaryInfo, types *godwarf.Types, funcs []*bininfo.Function, depth int, needs event.Needs) (*Tracer, error) {
	return NewWithInlined(tg, np, bi, types, funcs, nil, depth, needs)
}

// NewWithInlined is New that also traces the inlined copies insts.
func NewWithInlined(tg *proc.Target, np Prober, bi *bininfo.BinaryInfo, types *godwarf.Types, funcs []*bininfo.Function, insts []bininfo.InlinedInstance, depth int, needs event.Needs) (*Tracer, error) {
	gids, err := goroutine.NewIDReader(bi)
	if err != nil {
		return nil, err
	}
	pt := &Tracer{
		tg: tg, np: np, bi: bi, types: types, needs: needs,
		cfg:   loadConfig(depth),
		unw:   stack.New(bi),
		gids:  gids,
		sites: map[uint64]*site{},
		open:  map[int64][]openCall{},
		inl:   map[int64][]openInlined{},
	}
	pt.loader = value.Loader{Types: types, Funcs: funcResolver{bi}, Consts: types}
	if s, ok := bi.Symbol("runtime.types"); ok {
		pt.loader.RuntimeTypes = s.Addr
	}
	for _, fn := range funcs {
		tf := &tracedFunc{name: fn.Name}
		if params, err := probe.Params(types, fn); err != nil {
			tf.err = err
		} else if locs, err := probe.Assign(params, probe.ABIInternal); err != nil {
			tf.err = err
		} else {
			tf.args, tf.results, tf.argLocs, tf.resLocs = probe.Split(params, locs)
		}
		sites, err := probe.FindSites(bi, fn)
		if err != nil {
			return nil, err
		}
		pt.siteAt(sites.Entry, tf).call = true
		for _, r := range sites.Returns {
			pt.siteAt(r, tf).retn = true
		}
		for _, j := range sites.TailJumps {
			pt.siteAt(j, tf).tail = true
		}
	}
	if err := pt.addInlined(insts); err != nil {
		return nil, err
	}
	for addr := range pt.sites {
		orig := make([]byte, maxInstLen)
		n, err := tg.Process().ReadMemory(orig, addr)
		if n == 0 {
			return nil, fmt.Errorf("reading the code at %#x: %w", addr, err)
		}
		pt.probes = append(pt.probes, native.Probe{Addr: addr, Orig: orig[:n]})
	}
	for addr := range pt.sites {
		if _, err := tg.SetBreakpointAddr(addr); err != nil {
			return nil, fmt.Errorf("setting a trace breakpoint: %w", err)
		}
	}
	return pt, nil
}

func (pt *Tracer) siteAt(addr uint64, tf *tracedFunc) *site {
	s := pt.sites[addr]
	if s == nil {
		s = &site{}
		pt.sites[addr] = s
	}
	if tf != nil {
		s.fn = tf
	}
	return s
}

// loadConfig turns --depth into the loader's bounds: depth 1 prints a
// pointer to a struct with its fields inline, as print does.
func loadConfig(depth int) value.LoadConfig {
	cfg := value.DefaultLoadConfig
	cfg.FollowPointers = depth > 0
	cfg.MaxVariableRecurse = max(depth, 0)
	return cfg
}

// funcResolver names func values for the loader.
type funcResolver struct{ bi *bininfo.BinaryInfo }

// FuncName implements value.FuncResolver.
func (r funcResolver) FuncName(pc uint64) (string, bool) {
	if fn := r.bi.PCToFunc(pc); fn != nil {
		return fn.Name, true
	}
	return "", false
}

// Probes returns the number of probe sites (entries, returns and tail
// jumps).
func (pt *Tracer) Probes() int { return len(pt.sites) }

// Events returns the number of events reported so far.
func (pt *Tracer) Events() uint64 { return pt.events }

// Stopped returns the probe hits so far and the time their threads were
// held while their events were built: from the moment the handler got the
// hit to its return. The trap, the ptrace round trips and the step over
// the displaced instruction come on top and are not in it.
func (pt *Tracer) Stopped() (hits uint64, d time.Duration) { return pt.hits, pt.stopped }

// Result is how a trace ended.
type Result struct {
	Stop        proc.Stop // StopExited/StopKilled when the program ended
	Interrupted bool
}

// Run resumes the program, turning every probe hit into an event for
// emit, until it exits or ctx is cancelled (the program is then halted and
// left stopped for the caller to detach or kill). An error from emit ends
// the trace.
func (pt *Tracer) Run(ctx context.Context, emit func(*event.Event) error) (Result, error) {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			pt.tg.Halt()
		case <-done:
		}
	}()
	pt.start = time.Now()
	handler := func(h *native.ProbeHit) error { return pt.hit(h, emit) }
	for {
		if ctx.Err() != nil {
			return Result{Interrupted: true}, nil
		}
		ev, err := pt.np.RunProbes(pt.probes, handler)
		if err != nil {
			return Result{}, err
		}
		var st proc.Stop
		switch ev.Kind {
		case proc.StopKindExited:
			st = proc.Stop{Reason: proc.StopExited, ExitCode: ev.ExitCode}
		case proc.StopKindKilled:
			st = proc.Stop{Reason: proc.StopKilled, Signal: ev.Signal}
		default:
			continue // a halt: the loop checks ctx
		}
		// The Target did not see the exit happen; Kill on an exited
		// process only releases what the Target holds.
		_ = pt.tg.Kill()
		return Result{Stop: st}, nil
	}
}

// hit reports one probe hit; it runs on the ptrace thread while only the
// hit thread is stopped, so it reads memory through the hit.
func (pt *Tracer) hit(h *native.ProbeHit, emit func(*event.Event) error) error {
	s := pt.sites[h.Addr]
	if s == nil {
		return nil
	}
	now := time.Since(pt.start)
	pt.hits++
	defer func() { pt.stopped += time.Since(pt.start) - now }()
	goid, _ := pt.gids.Current(h, &h.Regs)
	th := hitThread{id: h.Thread.ID(), goid: goid, regs: &h.Regs, mem: h, fp: h.FPRegisters}
	for _, in := range s.exits {
		if ev := pt.inlinedReturn(in, h.Addr, &th, now); ev != nil {
			if err := emit(ev); err != nil {
				return err
			}
		}
	}
	skipReturn := false
	switch {
	case s.call && pt.cond != nil && !pt.passes(&th):
		// A site that is also the return reports neither.
		skipReturn = true
		if !s.retn && !s.tail {
			pt.open[goid] = append(pt.open[goid], openCall{fn: s.fn, at: now, filtered: true})
		}
	case s.call:
		if err := emit(pt.event(event.Call, s.fn, &th, now, false)); err != nil {
			return err
		}
	case pt.cond != nil && (s.retn || s.tail):
		skipReturn = pt.dropReturn(goid, s.fn)
	}
	if (s.retn || s.tail) && !skipReturn {
		if err := emit(pt.event(event.Return, s.fn, &th, now, s.tail)); err != nil {
			return err
		}
	}
	for _, in := range s.enters {
		if ev := pt.inlinedCall(in, h.Addr, &th, now); ev != nil {
			if err := emit(ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// hitThread is the thread of a probe hit.
type hitThread struct {
	id   int
	goid int64
	regs *arch.Registers
	mem  value.MemoryReader
	fp   func() (arch.FPRegisters, error) // the X registers, read on demand
}

// event builds one event, loading only what the sink prints.
func (pt *Tracer) event(kind event.Kind, fn *tracedFunc, th *hitThread, now time.Duration, tail bool) *event.Event {
	pt.events++
	ev := &event.Event{Kind: kind, Goroutine: th.goid, Thread: th.id, Function: fn.name, Time: now}
	g := th.goid
	if kind == event.Call {
		pt.open[g] = append(pt.open[g], openCall{fn: fn, at: now})
	} else {
		ev.Unpaired = true
		calls := pt.open[g]
		// The innermost open call of this function is ours; open calls
		// above it were abandoned by a panic and never return.
		for i := len(calls) - 1; i >= 0; i-- {
			if calls[i].fn == fn {
				ev.Unpaired, ev.Duration = false, now-calls[i].at
				calls = calls[:i]
				break
			}
		}
		if len(calls) == 0 {
			delete(pt.open, g)
		} else {
			pt.open[g] = calls
		}
	}
	if pt.needs.Values {
		switch {
		case kind == event.Call:
			ev.Values = pt.values(fn, fn.args, fn.argLocs, th)
		case tail:
			for _, p := range fn.results {
				ev.Values = append(ev.Values, event.Value{Name: p.Name, Type: value.TypeName(p.Type),
					Value: "(unreadable returned by a tail call, whose callee computes the results)"})
			}
		default:
			ev.Values = pt.values(fn, fn.results, fn.resLocs, th)
		}
	}
	if pt.needs.Stack > 0 {
		ev.Stack = pt.stack(th, pt.needs.Stack+1)
		if len(ev.Stack) > pt.needs.Stack {
			ev.Stack, ev.StackTruncated = ev.Stack[:pt.needs.Stack], true
		}
	}
	return ev
}

// values loads params at a probe, where the CFA is SP+8 (the entry probe
// precedes the frame setup; a RET follows its teardown).
func (pt *Tracer) values(fn *tracedFunc, params []probe.Param, locs []probe.Location, th *hitThread) []event.Value {
	if fn.err != nil {
		return []event.Value{{Name: "?", Value: fmt.Sprintf("(unreadable %v)", fn.err)}}
	}
	return pt.load(params, locs, nil, th, th.regs.SP()+8)
}

// load loads params at locs relative to cfa; where why[i] is set (why may
// be nil) DWARF gave no place for value i, which is reported unavailable.
func (pt *Tracer) load(params []probe.Param, locs []probe.Location, why []string, th *hitThread, cfa uint64) []event.Value {
	mem := newRegMemory(th.mem, th.fp)
	l := pt.loader
	l.Mem = mem
	out := make([]event.Value, 0, len(params))
	for i := range params {
		p := &params[i]
		v := event.Value{Name: p.Name, Type: value.TypeName(p.Type)}
		if why != nil && why[i] != "" {
			v.Unavailable = why[i]
			out = append(out, v)
			continue
		}
		addr, err := mem.place(locs[i], p.Type.Size(), th.regs, cfa)
		if err != nil {
			v.Value = fmt.Sprintf("(unreadable %v)", err)
		} else {
			v.Var = l.Load(p.Name, addr, p.Type, pt.cfg)
		}
		out = append(out, v)
	}
	return out
}

// stack unwinds up to depth frames from a probe.
func (pt *Tracer) stack(th *hitThread, depth int) []event.Frame {
	frames, _ := pt.unw.Unwind(th.mem, stack.FromRegisters(th.regs), stack.Options{MaxDepth: depth})
	out := make([]event.Frame, 0, len(frames))
	for _, f := range frames {
		out = append(out, event.Frame{PC: f.PC, Function: f.Func.Name, File: f.File, Line: f.Line})
	}
	return out
}
