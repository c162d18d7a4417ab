package debugger

import (
	"fmt"
	"go/ast"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/service/api"
)

// exprCalls is one call expression being evaluated: the calls inside it
// are made first, one after the other, and stand for their results in
// what contains them; the outermost call, when the expression is one, is
// the command's own. A breakpoint or halt during any of them stops the
// program there, as in Delve, and the command that finishes that call
// goes on with the rest of the expression (see resumeExpr).
type exprCalls struct {
	d       *Debugger
	t       *proc.Target
	goid    int64
	g       *goroutine.G
	cmd     api.DebuggerCommand
	e       ast.Expr
	top     *ast.CallExpr // the outermost call, nil when e is no call
	inner   []*ast.CallExpr
	results map[*ast.CallExpr]eval.CallResult
	pins    *callPins // what the debugger alone holds meanwhile
	// running, until the first inner call runs, tells the command's
	// server that a halt will find the target running (commandOne).
	running func()
}

// innerCall is filled by the callbacks of one call inside the
// expression when it returns, which may be at a later stop.
type innerCall struct {
	r        eval.CallResult
	panicked []api.Variable
}

// callExpr makes the calls of the expression e, in order, the last one
// (when e is a call) by the returned resume operation; running is called
// when the first inner call is made, the target marked running.
func (d *Debugger) callExpr(t *proc.Target, goid int64, g *goroutine.G, cmd api.DebuggerCommand, e ast.Expr, calls []*ast.CallExpr, pins *callPins, running func()) (func() (proc.Stop, error), error) {
	x := &exprCalls{d: d, t: t, goid: goid, g: g, cmd: cmd, e: e, inner: calls, results: map[*ast.CallExpr]eval.CallResult{}, pins: pins, running: running}
	if top, ok := e.(*ast.CallExpr); ok && calls[len(calls)-1] == top {
		x.top, x.inner = top, calls[:len(calls)-1]
	}
	return x.from(0)
}

func (x *exprCalls) alloc(size int64) (uint64, error) {
	addr, err := x.d.allocate(x.t, x.goid, size)
	if err != nil {
		return 0, err
	}
	return addr, x.pins.pin([]uint64{addr})
}

// from makes the inner calls from the i-th on and returns the resume
// operation of what is left: the outermost call, the values already
// known, or the stop that interrupted an inner call.
func (x *exprCalls) from(i int) (func() (proc.Stop, error), error) {
	for ; i < len(x.inner); i++ {
		c := x.inner[i]
		// A scope per call: a call may have moved the goroutine's stack.
		sc, err := x.d.callScope(x.t, x.goid, x.results)
		if err != nil {
			return nil, err
		}
		plan, err := sc.PlanCallExpr(c, x.alloc)
		if err != nil {
			return nil, err
		}
		if err := checkEscapes(plan, x.g, x.cmd.UnsafeCall); err != nil {
			return nil, err
		}
		ic, stop, err := x.callInner(plan)
		if err != nil {
			return nil, err
		}
		if stop.Reason != proc.StopCallReturned {
			// The stop is the command's: the call is still in progress.
			next := i + 1
			x.d.call = &callOutcome{pins: x.pins, rest: func(end proc.Stop) (func() (proc.Stop, error), error) {
				run, err := x.finishInner(c, ic, end, next)
				if err != nil {
					return nil, x.pins.releaseWith(err)
				}
				return run, nil
			}}
			return func() (proc.Stop, error) { return stop, nil }, nil
		}
		if run, err := x.finishInner(c, ic, stop, -1); run != nil || err != nil {
			return run, err
		}
	}
	return x.outer()
}

// finishInner takes the results of inner call c, ended by stop; a panic
// ends the expression with it. With next ≥ 0 it also goes on with the
// expression from the next-th inner call.
func (x *exprCalls) finishInner(c *ast.CallExpr, ic *innerCall, stop proc.Stop, next int) (func() (proc.Stop, error), error) {
	if stop.Call != nil && stop.Call.Err != nil {
		return nil, stop.Call.Err
	}
	if ic.panicked != nil {
		return x.d.noResume(x.t, ic.panicked), x.pins.release()
	}
	if err := x.pins.pin(ic.r.Pointers()); err != nil {
		return nil, err
	}
	x.results[c] = ic.r
	if next < 0 {
		return nil, nil
	}
	return x.from(next)
}

// outer evaluates the expression once its inner calls returned: the
// resume operation of its outermost call, or its value.
func (x *exprCalls) outer() (func() (proc.Stop, error), error) {
	d, t := x.d, x.t
	sc, err := d.callScope(t, x.goid, x.results)
	if err != nil {
		return nil, err
	}
	if x.top == nil {
		v, err := sc.EvalParsed(x.e, x.cmd.Expr, api.LoadConfigToValue(*x.cmd.ReturnInfoLoadConfig))
		if err != nil {
			return nil, err
		}
		return d.noResume(t, []api.Variable{api.ConvertVar(v)}), x.pins.release()
	}
	plan, err := sc.PlanCallExpr(x.top, x.alloc)
	if err != nil {
		return nil, err
	}
	if err := checkEscapes(plan, x.g, x.cmd.UnsafeCall); err != nil {
		return nil, err
	}
	prog, err := d.program()
	if err != nil {
		return nil, err
	}
	out := &callOutcome{values: []api.Variable{}, pins: x.pins}
	d.call = out
	cfg := api.LoadConfigToValue(*x.cmd.ReturnInfoLoadConfig)
	mem := t.Process()
	req := planRequest(mem, x.goid, plan)
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
			err = x.pins.release()
		}
		return stop, err
	}, nil
}

// callInner makes a call inside the expression and runs the target until
// it stops: the call's end, or a breakpoint or halt meanwhile. The
// returned innerCall holds the call's results, or its panic, once the
// call returned.
func (x *exprCalls) callInner(plan *eval.CallPlan) (*innerCall, proc.Stop, error) {
	ic := &innerCall{r: eval.CallResult{Fn: plan.Fn.Name}}
	prog, err := x.d.program()
	if err != nil {
		return nil, proc.Stop{}, err
	}
	mem := x.t.Process()
	cfg := api.LoadConfigToValue(*x.cmd.ReturnInfoLoadConfig)
	req := planRequest(mem, x.goid, plan)
	req.Returned = func(regs *arch.Registers, fp *arch.FPRegisters, sp uint64) error {
		for i, p := range plan.Params {
			if !p.Result {
				continue
			}
			b, err := resultBytes(mem, plan.Locs[i], p.Type, regs, fp, sp)
			if err != nil {
				return fmt.Errorf("%s: %w", p.Name, err)
			}
			ic.r.Types, ic.r.Values = append(ic.r.Types, p.Type), append(ic.r.Values, b)
		}
		return nil
	}
	req.Panicked = func(addr uint64) error {
		v, err := loadPanic(prog, mem, addr, cfg)
		ic.panicked = v
		return err
	}
	// The called code may block or loop: a halt must reach it. Only now,
	// with the target marked running, may the server let the client
	// send one: before, Halt would find nothing to stop and be lost.
	was := x.d.running.Swap(true)
	if x.running != nil {
		x.running()
		x.running = nil
	}
	stop, err := x.t.Call(req)
	x.d.running.Store(was)
	x.d.forgetG() // the goroutines ran, and may have come and gone
	return ic, stop, err
}
