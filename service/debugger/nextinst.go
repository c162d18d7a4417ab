package debugger

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"

	"github.com/tinydbg/tinydbg/pkg/proc"
)

// nextInstruction executes one machine instruction of the selected
// goroutine, like Delve's next-instruction: a CALL is executed whole, by
// running until the call returns to this frame (same goroutine, stack
// pointer back to its value before the call), so recursion and other
// goroutines running the same code do not end it early. A user breakpoint
// hit inside the call stops there instead.
func (d *Debugger) nextInstruction(t *proc.Target) (proc.Stop, error) {
	ths, err := t.Threads()
	if err != nil {
		return proc.Stop{}, err
	}
	goid := t.SelectedGoroutine()
	ti := threadRegsOf(ths, goid)
	if ti == nil {
		for i := range ths {
			if ths[i].ID == t.SelectedThread() {
				ti = &ths[i]
			}
		}
	}
	if ti == nil {
		return t.StepInstruction()
	}
	pc, sp := ti.Regs.PC(), ti.Regs.Rsp
	inst, ok := d.decodeAt(pc)
	if !ok || inst.Op != x86asm.CALL {
		return t.StepInstruction()
	}
	ret := pc + uint64(inst.Len)
	bp, err := t.SetBreakpointAddr(ret)
	if err != nil {
		// A user breakpoint already sits on the return address: it
		// stops the program there by itself.
		return t.Continue()
	}
	defer func() { _ = t.ClearBreakpoint(bp.ID) }()
	g, tid := ti.GoroutineID, ti.ID
	bp.Cond = func(hit int64) (bool, error) {
		if hit != g {
			return false, nil
		}
		now, err := t.Threads()
		if err != nil {
			return false, fmt.Errorf("next-instruction: %w", err)
		}
		for _, th := range now {
			if (g != 0 && th.GoroutineID == g) || (g == 0 && th.ID == tid) {
				return th.Regs.PC() == ret && th.Regs.Rsp == sp, nil
			}
		}
		return false, nil
	}
	stop, err := t.Continue()
	if err == nil && stop.Reason == proc.StopBreakpoint && stop.Breakpoint == bp {
		stop.Reason, stop.Breakpoint = proc.StopStepDone, nil
	}
	return stop, err
}

// decodeAt decodes the instruction at the run-time address pc from the
// executable (never from memory, where a breakpoint may hide its first byte).
func (d *Debugger) decodeAt(pc uint64) (x86asm.Inst, bool) {
	for n := uint64(15); n > 0; n-- {
		code, err := d.readCode(pc, n)
		if err != nil {
			continue // too close to the end of the code
		}
		inst, err := x86asm.Decode(code, 64)
		return inst, err == nil
	}
	return x86asm.Inst{}, false
}
