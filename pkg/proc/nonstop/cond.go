package nonstop

import (
	"fmt"
	"go/parser"
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// condition is a `trace --if` expression the tracer evaluates at each
// call, with the thread stopped; the eBPF engine compiles the same
// expression into the kernel instead.
type condition struct {
	expr     string
	prog     *eval.Program
	filtered uint64 // calls where it was false
	faults   uint64 // calls where it could not be evaluated
}

// SetCondition makes the tracer report only the calls for which expr, a
// Go expression over the function's arguments, holds at the entry, and
// their returns. A call where it cannot be evaluated (a nil pointer, a
// division by zero) is filtered and counted as a fault.
func (pt *Tracer) SetCondition(expr string) error {
	if _, err := parser.ParseExpr(expr); err != nil {
		return fmt.Errorf("--if %q: %w", expr, err)
	}
	for _, s := range pt.sites {
		if len(s.enters)+len(s.exits) > 0 {
			// As the eBPF engine: an inlined copy's arguments are not
			// the scope of the PC it is probed at.
			return fmt.Errorf("--if %q: inlined copies are not filtered yet", expr)
		}
	}
	p, err := eval.NewProgram(pt.bi)
	if err != nil {
		return err
	}
	pt.cond = &condition{expr: expr, prog: p}
	return nil
}

// CondCounts returns the calls the condition filtered and those where it
// faulted.
func (pt *Tracer) CondCounts() (filtered, faults uint64) {
	if pt.cond == nil {
		return 0, 0
	}
	return pt.cond.filtered, pt.cond.faults
}

// passes evaluates the condition in the frame of the hit thread.
func (pt *Tracer) passes(th *hitThread) bool {
	c := pt.cond
	frames, err := pt.unw.Unwind(th.mem, stack.FromRegisters(th.regs), stack.Options{MaxDepth: 1})
	if len(frames) == 0 {
		c.faults++
		return false
	}
	sc, err := c.prog.FrameScope(th.mem, frames, 0)
	if err != nil {
		c.faults++
		return false
	}
	v, err := sc.Eval(c.expr, value.LoadConfig{})
	switch {
	case err != nil || v.Unreadable != nil || v.Kind != reflect.Bool:
		c.faults++
		return false
	case v.Value != "true":
		c.filtered++
		return false
	}
	return true
}

// dropReturn reports whether the return of fn on goroutine g belongs to a
// filtered call, forgetting that call.
func (pt *Tracer) dropReturn(g int64, fn *tracedFunc) bool {
	calls := pt.open[g]
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].fn != fn {
			continue
		}
		if !calls[i].filtered {
			return false
		}
		calls = calls[:i]
		if len(calls) == 0 {
			delete(pt.open, g)
		} else {
			pt.open[g] = calls
		}
		return true
	}
	return false
}
