package trace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/arch/x86/x86asm"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// tracedFunc is one function under trace with its parameters' locations.
type tracedFunc struct {
	name          string
	args, results []param
	err           error // why its parameters could not be described
}

// site is one breakpoint address: a function's entry probe, one of its
// RETs, or both for a body that is a single RET.
type site struct {
	fn         *tracedFunc
	call, retn bool
}

// openCall is a call whose return has not been seen yet.
type openCall struct {
	fn *tracedFunc
	at time.Duration
}

// ptraceTracer drives a stopped-at-every-probe trace through proc.Target.
type ptraceTracer struct {
	tg     *proc.Target
	bi     *bininfo.BinaryInfo
	types  *godwarf.Types
	loader value.Loader
	cfg    value.LoadConfig
	needs  Needs
	unw    *stack.Unwinder
	sites  map[uint64]*site
	open   map[int64][]openCall // per goroutine, innermost last
	start  time.Time
	events uint64
}

// probeSites decodes fn's code: the entry probe goes right after the
// stack-growth check (CMP against g.stackguard0 at 16(R14), then a
// conditional jump to morestack), because morestack restarts the function
// from its first instruction and a probe before the check would report a
// call twice; before the frame is set up, every argument register is
// intact and the CFA is SP+8, as at a RET. Every RET gets a return probe.
func probeSites(mem proc.Process, fn *bininfo.Function) (entry uint64, rets []uint64, err error) {
	if fn.End <= fn.Entry || fn.End-fn.Entry > 1<<22 {
		return 0, nil, fmt.Errorf("%s has an invalid code range [%#x, %#x)", fn.Name, fn.Entry, fn.End)
	}
	code := make([]byte, fn.End-fn.Entry)
	if _, err := mem.ReadMemory(code, fn.Entry); err != nil {
		return 0, nil, fmt.Errorf("reading the code of %s: %w", fn.Name, err)
	}
	entry = fn.Entry
	sawCheck := false
	for off, n := 0, 0; off < len(code); n++ {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			break // padding after the last instruction
		}
		switch {
		case n < 4 && !sawCheck && isStackGuardCmp(inst):
			sawCheck = true
		case n < 5 && sawCheck && entry == fn.Entry && isCondJump(inst.Op):
			entry = fn.Entry + uint64(off+inst.Len)
		}
		if inst.Op == x86asm.RET {
			rets = append(rets, fn.Entry+uint64(off))
		}
		off += inst.Len
	}
	return entry, rets, nil
}

func isStackGuardCmp(inst x86asm.Inst) bool {
	if inst.Op != x86asm.CMP {
		return false
	}
	for _, a := range inst.Args {
		if m, ok := a.(x86asm.Mem); ok && m.Base == x86asm.R14 && m.Disp == 16 {
			return true
		}
	}
	return false
}

func isCondJump(op x86asm.Op) bool {
	switch op {
	case x86asm.JBE, x86asm.JB, x86asm.JA, x86asm.JAE, x86asm.JLE, x86asm.JL:
		return true
	}
	return false
}

// newPtraceTracer sets the entry and return breakpoints of funcs in tg.
// Every code range is decoded before the first int3 is written, so no
// decoder ever sees a breakpoint byte.
func newPtraceTracer(tg *proc.Target, bi *bininfo.BinaryInfo, types *godwarf.Types, funcs []*bininfo.Function, depth int, needs Needs) (*ptraceTracer, error) {
	pt := &ptraceTracer{
		tg: tg, bi: bi, types: types, needs: needs,
		cfg:   loadConfig(depth),
		unw:   stack.New(bi),
		sites: map[uint64]*site{},
		open:  map[int64][]openCall{},
	}
	pt.loader = value.Loader{Types: types, Funcs: funcResolver{bi}, Consts: types}
	if s, ok := bi.Symbol("runtime.types"); ok {
		pt.loader.RuntimeTypes = s.Addr
	}
	d := types.Data()
	for _, fn := range funcs {
		tf := &tracedFunc{name: fn.Name}
		tf.args, tf.results, tf.err = readParams(d, types, fn.Offset)
		entry, rets, err := probeSites(tg.Process(), fn)
		if err != nil {
			return nil, err
		}
		pt.siteAt(entry, tf).call = true
		for _, r := range rets {
			pt.siteAt(r, tf).retn = true
		}
	}
	for addr := range pt.sites {
		if _, err := tg.SetBreakpointAddr(addr); err != nil {
			return nil, fmt.Errorf("setting a trace breakpoint: %w", err)
		}
	}
	return pt, nil
}

func (pt *ptraceTracer) siteAt(addr uint64, tf *tracedFunc) *site {
	s := pt.sites[addr]
	if s == nil {
		s = &site{fn: tf}
		pt.sites[addr] = s
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

// ptraceResult is how a ptrace trace ended.
type ptraceResult struct {
	stop        proc.Stop // StopExited/StopKilled when the program ended
	interrupted bool
}

// run continues the program, turning every breakpoint hit into an event,
// until it exits or ctx is cancelled (the program is then halted and left
// stopped for the caller to detach or kill).
func (pt *ptraceTracer) run(ctx context.Context, sink Sink) (ptraceResult, error) {
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
	for {
		if ctx.Err() != nil {
			return ptraceResult{interrupted: true}, nil
		}
		st, err := pt.tg.Continue()
		if err != nil {
			return ptraceResult{}, err
		}
		switch st.Reason {
		case proc.StopExited, proc.StopKilled:
			return ptraceResult{stop: st}, nil
		case proc.StopHalted:
			if ctx.Err() != nil {
				return ptraceResult{interrupted: true}, nil
			}
			continue
		case proc.StopBreakpoint:
		default:
			continue // a foreign int3 (runtime.Breakpoint): not ours to report
		}
		if err := pt.hits(st, sink); err != nil {
			return ptraceResult{}, err
		}
	}
}

// hits reports every thread that stopped on a trace breakpoint in this
// stop. Continue names one; the fast path reads only that thread's
// registers plus the PCs of the others. Only when another thread stands on
// a probe address (it may have hit in the same stop, or merely be about to
// execute the int3) does it ask the Target which threads really hit,
// which costs a goroutine lookup per thread.
func (pt *ptraceTracer) hits(st proc.Stop, sink Sink) error {
	now := time.Since(pt.start)
	var hit []proc.ThreadInfo
	others := false
	for _, th := range pt.tg.Process().Threads() {
		regs, err := th.Registers()
		if err != nil {
			return fmt.Errorf("thread %d: %w", th.ID(), err)
		}
		if th.ID() == st.ThreadID {
			hit = append(hit, proc.ThreadInfo{ID: th.ID(), Regs: regs, GoroutineID: st.GoroutineID, Breakpoint: st.Breakpoint})
		} else if pt.sites[regs.PC()] != nil {
			others = true
		}
	}
	if others {
		ths, err := pt.tg.Threads()
		if err != nil {
			return err
		}
		hit = hit[:0]
		for _, th := range ths {
			if th.Breakpoint != nil {
				hit = append(hit, th)
			}
		}
	}
	for i := range hit {
		th := &hit[i]
		s := pt.sites[th.Regs.PC()]
		if s == nil {
			continue
		}
		if s.call {
			if err := sink.Event(pt.event(Call, s.fn, th, now)); err != nil {
				return err
			}
		}
		if s.retn {
			if err := sink.Event(pt.event(Return, s.fn, th, now)); err != nil {
				return err
			}
		}
	}
	return nil
}

// event builds one event, loading only what the sink prints.
func (pt *ptraceTracer) event(kind Kind, fn *tracedFunc, th *proc.ThreadInfo, now time.Duration) *Event {
	pt.events++
	ev := &Event{Kind: kind, Goroutine: th.GoroutineID, Thread: th.ID, Function: fn.name, Time: now}
	g := th.GoroutineID
	if kind == Call {
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
		params := fn.args
		if kind == Return {
			params = fn.results
		}
		ev.Values = pt.values(fn, params, &th.Regs)
	}
	if pt.needs.Stack > 0 {
		ev.Stack = pt.stack(&th.Regs, pt.needs.Stack+1)
		if len(ev.Stack) > pt.needs.Stack {
			ev.Stack, ev.StackTruncated = ev.Stack[:pt.needs.Stack], true
		}
	}
	return ev
}

// values loads params at a probe, where the CFA is SP+8 (the entry probe
// precedes the frame setup; a RET follows its teardown).
func (pt *ptraceTracer) values(fn *tracedFunc, params []param, regs *arch.Registers) []Value {
	if fn.err != nil {
		return []Value{{Name: "?", Value: fmt.Sprintf("(unreadable %v)", fn.err)}}
	}
	mem := &regMemory{mem: pt.tg.Process()}
	l := pt.loader
	l.Mem = mem
	out := make([]Value, 0, len(params))
	for i := range params {
		p := &params[i]
		v := Value{Name: p.name, Type: typeName(p.typ)}
		addr, err := mem.place(p, regs, regs.SP()+8)
		if err != nil {
			v.Value = fmt.Sprintf("(unreadable %v)", err)
		} else {
			v.Value = formatVar(l.Load(p.name, addr, p.typ, pt.cfg))
		}
		out = append(out, v)
	}
	return out
}

// formatVar prints a loaded value as Delve's trace does.
func formatVar(v *value.Variable) string {
	if v.Unreadable != nil {
		return fmt.Sprintf("(unreadable %v)", v.Unreadable)
	}
	return value.Format(v)
}

func typeName(t godwarf.Type) string {
	if t == nil {
		return ""
	}
	if n := t.Common().Name; n != "" {
		return n
	}
	return t.String()
}

// stack unwinds up to depth frames from a probe.
func (pt *ptraceTracer) stack(regs *arch.Registers, depth int) []Frame {
	frames, _ := pt.unw.Unwind(pt.tg.Process(), stack.FromRegisters(regs), stack.Options{MaxDepth: depth})
	out := make([]Frame, 0, len(frames))
	for _, f := range frames {
		out = append(out, Frame{PC: f.PC, Function: f.Func.Name, File: f.File, Line: f.Line})
	}
	return out
}

// errNoFuncs is wrapped when the regular expression matches nothing.
var errNoFuncs = errors.New("no function matches")
