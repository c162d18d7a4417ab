package debugger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"go/ast"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// callOutcome collects what an injected call returned, filled by the
// protocol's callbacks and reported by the stop that ends the call (which
// may come after other stops, when a breakpoint interrupts the call).
type callOutcome struct {
	values []api.Variable
	pins   *callPins // released once the call returned
	// abandoned is set for an expression left when a breakpoint
	// interrupted one of its inner calls: its end has no results to show.
	abandoned bool
}

// prepareCall resolves cmd.Expr in frame 0 of the call's goroutine and
// returns the resume operation that injects it, as Delve's Command "call".
func (d *Debugger) prepareCall(t *proc.Target, cmd api.DebuggerCommand) (func() (proc.Stop, error), error) {
	if cmd.ReturnInfoLoadConfig == nil {
		return nil, errors.New("can not call function with nil ReturnInfoLoadConfig")
	}
	if t.CallInProgress() {
		return nil, proc.ErrCallInProgress
	}
	goid := d.selectedG(t)
	if cmd.GoroutineID > 0 {
		goid = cmd.GoroutineID
	}
	if goid == 0 {
		return nil, proc.ErrCallNoGoroutine
	}
	g, err := d.findG(t, goid)
	if err != nil {
		return nil, err
	}
	if g.ThreadID == 0 {
		return nil, proc.ErrCallNotRunning
	}
	sc, err := d.scope(t, goid, 0)
	if err != nil {
		return nil, err
	}
	e, calls, err := sc.ProgramCalls(cmd.Expr)
	if err != nil {
		return nil, err
	}
	if len(calls) == 0 {
		return d.evalAsCall(t, goid, cmd)
	}
	pins := d.newCallPins(t, goid, g)
	run, err := d.callExpr(t, goid, g, cmd, e, calls, pins)
	if err != nil {
		return nil, pins.releaseWith(err)
	}
	return run, nil
}

// callExpr makes the calls of the expression e, in order, the last one
// (when e is a call) by the returned resume operation; what the debugger
// alone holds meanwhile is pinned in pins.
func (d *Debugger) callExpr(t *proc.Target, goid int64, g *goroutine.G, cmd api.DebuggerCommand, e ast.Expr, calls []*ast.CallExpr, pins *callPins) (func() (proc.Stop, error), error) {
	alloc := func(size int64) (uint64, error) {
		addr, err := d.allocate(t, goid, size)
		if err != nil {
			return 0, err
		}
		return addr, pins.pin([]uint64{addr})
	}
	var sc *eval.Scope
	var err error
	// Calls inside the expression are made first, one after the other,
	// and stand for their results in what contains them; the outermost
	// call, when the expression is one, is the command's own.
	top, isCall := e.(*ast.CallExpr)
	isCall = isCall && calls[len(calls)-1] == top
	inner := calls
	if isCall {
		inner = calls[:len(calls)-1]
	}
	results := map[*ast.CallExpr]eval.CallResult{}
	for _, c := range inner {
		// A scope per call: a call may have moved the goroutine's stack.
		if sc, err = d.callScope(t, goid, results); err != nil {
			return nil, err
		}
		plan, err := sc.PlanCallExpr(c, alloc)
		if err != nil {
			return nil, err
		}
		if err := checkEscapes(plan, g, cmd.UnsafeCall); err != nil {
			return nil, err
		}
		r, panicked, err := d.callNow(t, goid, plan, *cmd.ReturnInfoLoadConfig)
		if err != nil {
			return nil, err
		}
		if panicked != nil {
			return d.noResume(t, panicked), pins.release()
		}
		if err := pins.pin(r.Pointers()); err != nil {
			return nil, err
		}
		results[c] = r
	}
	if sc, err = d.callScope(t, goid, results); err != nil {
		return nil, err
	}
	if !isCall {
		v, err := sc.EvalParsed(e, cmd.Expr, api.LoadConfigToValue(*cmd.ReturnInfoLoadConfig))
		if err != nil {
			return nil, err
		}
		return d.noResume(t, []api.Variable{api.ConvertVar(v)}), pins.release()
	}
	plan, err := sc.PlanCallExpr(top, alloc)
	if err != nil {
		return nil, err
	}
	if err := checkEscapes(plan, g, cmd.UnsafeCall); err != nil {
		return nil, err
	}
	prog, err := d.program()
	if err != nil {
		return nil, err
	}
	out := &callOutcome{values: []api.Variable{}, pins: pins}
	d.call = out
	cfg := api.LoadConfigToValue(*cmd.ReturnInfoLoadConfig)
	mem := t.Process()
	req := planRequest(mem, goid, plan)
	req.Returned = func(regs *arch.Registers, fp *arch.FPRegisters, sp uint64) error {
		vals, err := readResults(prog, mem, plan, regs, fp, sp, cfg)
		out.values = vals
		return err
	}
	req.Panicked = func(addr uint64) error {
		v, err := loadPanic(prog, mem, addr, cfg)
		out.values = v
		return err
	}
	return func() (proc.Stop, error) {
		stop, err := t.Call(req)
		if err == nil && stop.Reason == proc.StopCallReturned {
			// Delve unpins once the expression's last call returned.
			err = pins.release()
		}
		return stop, err
	}, nil
}

// allocate gets size bytes of the target's heap for an argument, as Delve
// does for string constants: by an injected call of runtime.mallocgc
// (size, no type: memory without pointers, not zeroed) whose result, in
// RAX under the register ABI, is the address.
func (d *Debugger) allocate(t *proc.Target, goid int64, size int64) (uint64, error) {
	addr, err := t.CallRuntime(goid, "runtime.mallocgc", uint64(size), 0, 0)
	if err != nil {
		return 0, err
	}
	if addr == 0 {
		return 0, errors.New("runtime.mallocgc returned nil")
	}
	return addr, nil
}

// evalAsCall serves a call of an expression that calls nothing, as Delve
// does: it is evaluated, and shown as the one value returned, without
// resuming the program.
func (d *Debugger) evalAsCall(t *proc.Target, goid int64, cmd api.DebuggerCommand) (func() (proc.Stop, error), error) {
	v, err := d.evalLocked(t, goid, 0, cmd.Expr, *cmd.ReturnInfoLoadConfig)
	if err != nil {
		return nil, err
	}
	return d.noResume(t, []api.Variable{*v}), nil
}

// noResume is the operation of a call command whose values are known
// already: it reports them where the goroutine stands.
func (d *Debugger) noResume(t *proc.Target, values []api.Variable) func() (proc.Stop, error) {
	d.call = &callOutcome{values: values}
	return func() (proc.Stop, error) {
		st := t.LastStop()
		st.Reason, st.Call = proc.StopCallReturned, &proc.CallDone{}
		return st, nil
	}
}

// callScope is frame 0 of goroutine goid with the results of the calls
// made so far.
func (d *Debugger) callScope(t *proc.Target, goid int64, results map[*ast.CallExpr]eval.CallResult) (*eval.Scope, error) {
	sc, err := d.scope(t, goid, 0)
	if err != nil {
		return nil, err
	}
	for c, r := range results {
		sc.SetCallResult(c, r)
	}
	return sc, nil
}

// checkEscapes refuses, as Delve does without -unsafe, an argument
// pointing into the goroutine's stack: the callee may keep it, and the
// stack it points into moves or dies.
func checkEscapes(plan *eval.CallPlan, g *goroutine.G, unsafe bool) error {
	if unsafe {
		return nil
	}
	for _, p := range plan.Pointers {
		if p.Addr >= g.StackLo && p.Addr < g.StackHi {
			err := fmt.Errorf("cannot use %s as argument %s in function %s: stack object passed to escaping pointer: %s", p.Arg, p.Param, plan.Fn.Name, p.Path)
			if p.Receiver {
				err = fmt.Errorf("could not set call receiver: %w", err)
			}
			return err
		}
	}
	return nil
}

// callNow makes a call inside the command's expression and waits for it:
// the bytes of its results, or the panic it ended with, as values.
func (d *Debugger) callNow(t *proc.Target, goid int64, plan *eval.CallPlan, cfg api.LoadConfig) (eval.CallResult, []api.Variable, error) {
	r := eval.CallResult{Fn: plan.Fn.Name}
	var panicked []api.Variable
	prog, err := d.program()
	if err != nil {
		return r, nil, err
	}
	mem := t.Process()
	req := planRequest(mem, goid, plan)
	req.Returned = func(regs *arch.Registers, fp *arch.FPRegisters, sp uint64) error {
		for i, p := range plan.Params {
			if !p.Result {
				continue
			}
			b, err := resultBytes(mem, plan.Locs[i], p.Type, regs, fp, sp)
			if err != nil {
				return fmt.Errorf("%s: %w", p.Name, err)
			}
			r.Types, r.Values = append(r.Types, p.Type), append(r.Values, b)
		}
		return nil
	}
	req.Panicked = func(addr uint64) error {
		v, err := loadPanic(prog, mem, addr, api.LoadConfigToValue(cfg))
		panicked = v
		return err
	}
	stop, err := t.Call(req)
	if err != nil {
		return r, nil, err
	}
	if stop.Reason != proc.StopCallReturned {
		return r, nil, fmt.Errorf("call stopped (in %s, called by the expression)", plan.Fn.Name)
	}
	if stop.Call != nil && stop.Call.Err != nil {
		return r, nil, stop.Call.Err
	}
	return r, panicked, nil
}

// resultBytes copies a result out of the registers or the argument frame,
// which the next call reuses.
func resultBytes(mem proc.Process, loc probe.Location, typ godwarf.Type, regs *arch.Registers, fp *arch.FPRegisters, sp uint64) ([]byte, error) {
	if loc.InRegs {
		return loc.Assemble(regs, fp, typ.Size())
	}
	b := make([]byte, typ.Size())
	if _, err := mem.ReadMemory(b, sp+uint64(loc.StackOff)); err != nil {
		return nil, err
	}
	return b, nil
}

// loadPanic loads the interface{} a panicking call left at addr, named
// ~panic as Delve names it.
func loadPanic(prog *eval.Program, mem proc.Process, addr uint64, cfg value.LoadConfig) ([]api.Variable, error) {
	typ, err := prog.Types.ByName("interface {}")
	if err != nil {
		return nil, err
	}
	v := prog.Loader(mem).Load("~panic", addr, typ, cfg)
	return []api.Variable{api.ConvertVar(v)}, nil
}

// planRequest is the request of plan's call, the callbacks reading its
// end left to the caller.
func planRequest(mem proc.Process, goid int64, plan *eval.CallPlan) proc.CallRequest {
	return proc.CallRequest{
		Goroutine: goid,
		Entry:     plan.Fn.Entry,
		FrameSize: plan.FrameSize,
		Closure:   plan.Closure,
		SetArgs: func(regs *arch.Registers, fp *arch.FPRegisters, sp uint64) error {
			return placeArgs(mem, plan, regs, fp, sp)
		},
	}
}

// placeArgs writes the encoded arguments where the register ABI wants them.
func placeArgs(mem eval.MemoryWriter, plan *eval.CallPlan, regs *arch.Registers, fp *arch.FPRegisters, sp uint64) error {
	for i, p := range plan.Params {
		if p.Result {
			continue
		}
		b, loc := plan.Args[i], plan.Locs[i]
		if !loc.InRegs {
			if len(b) == 0 {
				continue
			}
			if _, err := mem.WriteMemory(sp+uint64(loc.StackOff), b); err != nil {
				return fmt.Errorf("writing argument %s: %w", p.Name, err)
			}
			continue
		}
		for _, pc := range loc.Pieces {
			if pc.Off+pc.Size > int64(len(b)) || pc.Size > 8 {
				return fmt.Errorf("argument %s: register piece outside the value", p.Name)
			}
			var w [8]byte
			copy(w[:], b[pc.Off:pc.Off+pc.Size])
			if pc.Float {
				if pc.Reg < 0 || pc.Reg >= arch.NumXmm {
					return fmt.Errorf("argument %s: no register X%d", p.Name, pc.Reg)
				}
				fp.Xmm[pc.Reg] = [16]byte{}
				copy(fp.Xmm[pc.Reg][:], w[:])
				continue
			}
			if err := regs.SetIntArg(pc.Reg, binary.LittleEndian.Uint64(w[:])); err != nil {
				return fmt.Errorf("argument %s: %w", p.Name, err)
			}
		}
	}
	return nil
}

// readResults loads the results of the returned call: register-held ones
// from regs and fp, the others from the argument frame at sp.
func readResults(prog *eval.Program, mem proc.Process, plan *eval.CallPlan, regs *arch.Registers, fp *arch.FPRegisters, sp uint64, cfg value.LoadConfig) ([]api.Variable, error) {
	ov := &value.Overlay{Parent: mem}
	ld := prog.Loader(ov)
	out := []api.Variable{}
	for i, p := range plan.Params {
		if !p.Result {
			continue
		}
		addr, err := resultAddr(ov, plan.Locs[i], p.Type, regs, fp, sp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		v := api.ConvertVar(ld.Load(p.Name, addr, p.Type, cfg))
		v.Flags |= api.VariableReturnArgument
		out = append(out, v)
	}
	return out, nil
}

func resultAddr(ov *value.Overlay, loc probe.Location, typ godwarf.Type, regs *arch.Registers, fp *arch.FPRegisters, sp uint64) (uint64, error) {
	if !loc.InRegs {
		return sp + uint64(loc.StackOff), nil
	}
	b, err := loc.Assemble(regs, fp, typ.Size())
	if err != nil {
		return 0, err
	}
	return ov.Alloc(b)
}

// describeCallStop adds the results of the call a StopCallReturned stop
// ends to the current thread, as Delve's CallReturn and ReturnValues; a
// call the runtime refused, or whose results could not be read, is an
// error, the goroutine being back where it was.
func (d *Debugger) describeCallStop(stop proc.Stop, st *api.DebuggerState) error {
	if stop.Reason != proc.StopCallReturned {
		return nil
	}
	out := d.call
	d.call = nil
	if out != nil {
		// A call a breakpoint interrupted ends here, in a later continue.
		if err := out.pins.release(); err != nil {
			return err
		}
	}
	if stop.Call != nil && stop.Call.Err != nil {
		return stop.Call.Err
	}
	if st.CurrentThread != nil && out != nil && !out.abandoned {
		st.CurrentThread.CallReturn = true
		st.CurrentThread.ReturnValues = out.values
	}
	return nil
}
