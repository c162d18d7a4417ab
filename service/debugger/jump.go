package debugger

import (
	"errors"
	"fmt"
)

// SetExecutionPoint moves the PC of the selected goroutine's thread (else
// the selected thread) to addr without running the code in between, as
// Delve's jump does; addr must lie in the function the thread is in,
// since another function's code would run on this frame's stack.
func (d *Debugger) SetExecutionPoint(addr uint64) error {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return err
	}
	defer unlock()
	ths, err := t.Threads()
	if err != nil {
		return err
	}
	tid := t.SelectedThread()
	if ti := threadRegsOf(ths, t.SelectedGoroutine()); ti != nil {
		tid = ti.ID
	}
	var pc uint64
	found := false
	for i := range ths {
		if ths[i].ID == tid {
			pc, found = ths[i].Regs.PC(), true
		}
	}
	if !found {
		return fmt.Errorf("no thread %d", tid)
	}
	cur, dest := d.bi.PCToFunc(pc), d.bi.PCToFunc(addr)
	if cur == nil || dest == nil || cur.Entry != dest.Entry {
		return errors.New("can not set the next execution point outside of the current function")
	}
	for _, th := range t.Process().Threads() {
		if th.ID() == tid {
			d.forgetG() // a goroutine's thread now runs elsewhere
			if err := th.SetPC(addr); err != nil {
				return fmt.Errorf("setting the PC of thread %d: %w", tid, err)
			}
			return nil
		}
	}
	return fmt.Errorf("no thread %d", tid)
}
