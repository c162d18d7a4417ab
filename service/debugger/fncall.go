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
	// abandoned is set for an expression given up on (an error) while one
	// of its calls is still in progress: its end has no results to show.
	abandoned bool
	// rest, when set, goes on with the expression once the inner call
	// a breakpoint or halt interrupted has returned (exprCalls.from).
	rest func(end proc.Stop) (func() (proc.Stop, error), error)
}

// prepareCall resolves cmd.Expr in frame 0 of the call's goroutine and
// returns the resume operation that injects it, as Delve's Command "call".
// running is called once the target runs an inner call of the expression.
func (d *Debugger) prepareCall(t *proc.Target, cmd api.DebuggerCommand, running func()) (func() (proc.Stop, error), error) {
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
	run, err := d.callExpr(t, goid, g, cmd, e, calls, pins, running)
	if err != nil {
		return nil, pins.releaseWith(err)
	}
	return run, nil
}

// allocate gets size bytes of the target's heap for an argument, as Delve
// does for string constants: by an injected call of runtime.mallocgc
// (size, no type: memory without pointers, not zeroed) whose result, in
// RAX under the register ABI, is the address.
func (d *Debugger) allocate(t *proc.Target, goid int64, size int64) (uint64, error) {
	addr, err := t.CallRuntime(goid, "runtime.mallocgc", uint64(size), 0, 0)
	d.forgetG() // the program ran
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
