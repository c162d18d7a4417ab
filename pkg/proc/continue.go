package proc

import (
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// trapHit is one thread stopped on one of our breakpoints, its PC already
// rewound onto the breakpoint address.
type trapHit struct {
	th     Thread
	regs   arch.Registers
	pc     uint64
	g      Goroutine
	frames []Frame // lazily unwound
}

// unwind returns at least depth frames of the hit thread (fewer at the stack's end).
func (h *trapHit) unwind(t *Target, depth int) ([]Frame, error) {
	if len(h.frames) >= depth {
		return h.frames, nil
	}
	fr, err := t.rt.Unwind(h.th, h.regs, depth)
	if err != nil {
		return nil, fmt.Errorf("unwinding thread %d: %w", h.th.ID(), err)
	}
	if len(fr) == 0 {
		return nil, fmt.Errorf("unwinding thread %d: no frames", h.th.ID())
	}
	h.frames = fr
	return fr, nil
}

// Continue resumes every thread until a user breakpoint whose conditions
// hold, the end of the stepping operation in progress, a halt, or exit.
func (t *Target) Continue() (Stop, error) { return t.exclusive(t.continueToStop) }

func (t *Target) continueToStop() (Stop, error) {
	if err := t.checkAlive(); err != nil {
		return Stop{}, err
	}
	t.threadBP = map[int]*Breakpoint{}
	t.watchChange = map[int]*WatchChange{}
	for {
		// A Halt that arrives between two resumes of this loop is kept
		// pending by the backend, whose next Continue returns at once.
		if err := t.stepOverBreakpoints(); err != nil {
			return t.exitedBy(err)
		}
		if stepped := t.takeWatchHits(); len(stepped) > 0 {
			// An instruction stepped over (or by a next) hit a watchpoint.
			stop, found, err := t.handleTraps(stepped)
			if err != nil {
				return t.exitedBy(err)
			}
			if found {
				return stop, nil
			}
		}
		ev, err := t.proc.Continue()
		if err != nil {
			return t.exitedBy(fmt.Errorf("continue: %w", err))
		}
		switch ev.Kind {
		case StopKindExited, StopKindKilled:
			return t.markExited(ev), nil
		}
		// The call thread's protocol traps are the runtime's, not ours:
		// handled first, so that a breakpoint hit in the same stop does
		// not leave one unanswered.
		trapped, callDone, err := t.callTrap(ev.Trapped)
		if err != nil {
			return t.exitedBy(err)
		}
		stop, found, err := t.handleTraps(trapped)
		if err != nil {
			return t.exitedBy(err)
		}
		if callDone != nil {
			st, err := t.stopOn(callDone, StopCallReturned)
			st.Call = &CallDone{Err: t.callErr}
			t.lastStop = st
			return st, err
		}
		if found {
			return stop, nil
		}
		if ev.Kind == StopKindHalt || ev.HaltRequested {
			// A halt that came with traps the loop would resume past
			// (an injected call's protocol, most often) still stops.
			cerr := t.clearSteps()
			st, err := t.stopOn(nil, StopHalted)
			return st, errors.Join(err, cerr)
		}
	}
}

// exitedBy reports the end of the process as a stop when err says the
// process ended during a single step (stepping over a breakpoint on the
// exit system call, or through the last instruction of a next); any other
// error is returned as is, with the stepping operation cancelled.
func (t *Target) exitedBy(err error) (Stop, error) {
	var pe *ProcessExitedError
	if errors.As(err, &pe) {
		ev := StopEvent{Kind: StopKindExited, ExitCode: pe.ExitCode, Signal: pe.Signal}
		if pe.Signal != 0 {
			ev.Kind = StopKindKilled
		}
		return t.markExited(ev), nil
	}
	// A thread that steps through exit_group ends alone; the others die
	// stopped, so the next ptrace call on one fails with ESRCH. Whatever
	// failed, a process that is gone is reported as its exit.
	if r, ok := t.proc.(exitReaper); ok {
		if ev, gone := r.ReapIfGone(); gone {
			return t.markExited(ev), nil
		}
	}
	return Stop{}, errors.Join(err, t.clearSteps())
}

func (t *Target) markExited(ev StopEvent) Stop {
	t.exited = true
	t.exitCode = ev.ExitCode
	t.fncall = nil
	t.steps = nil
	_ = t.closeKernel() // the process is gone: only the programs are left to release
	t.bps.phys = map[uint64]*physBreakpoint{}
	t.threadBP = map[int]*Breakpoint{}
	st := Stop{Reason: StopExited, ExitCode: ev.ExitCode}
	if ev.Kind == StopKindKilled {
		st = Stop{Reason: StopKilled, Signal: ev.Signal}
		// A shell's 128+N would read as a normal exit; Delve says -N.
		t.exitCode = -ev.Signal
	}
	t.lastStop = st
	_ = t.close()
	return st
}

// stepOverBreakpoints moves every thread that stopped on a breakpoint (and
// was rewound onto it) past that address, so resuming does not hit it again.
// Other threads are left alone: one standing on a breakpoint it has not yet
// executed must still hit it.
func (t *Target) stepOverBreakpoints() error {
	for _, th := range t.proc.Threads() {
		regs, err := th.Registers()
		if errors.Is(err, ErrThreadExited) {
			continue // it ended while stopped (killed); nothing to step over
		}
		if err != nil {
			return fmt.Errorf("thread %d: %w", th.ID(), err)
		}
		if !t.sitsOnHit(th.ID(), regs.PC()) {
			continue
		}
		if err := t.stepOverAt(th, regs.PC()); err != nil && !errors.Is(err, ErrThreadExited) {
			// A thread ending on the instruction it stepped over (its
			// exit system call) is fine; the others go on.
			return err
		}
	}
	return nil
}

// sitsOnHit reports whether thread tid was rewound onto a breakpoint at pc
// by the last stop and has not moved since.
func (t *Target) sitsOnHit(tid int, pc uint64) bool {
	at, ok := t.rewound[tid]
	return ok && at == pc && (t.bps.phys[pc] != nil || t.bps.kern[pc] != nil)
}

// stepOverAt executes the instruction at pc on th alone, with the original
// byte temporarily restored when a breakpoint is there.
func (t *Target) stepOverAt(th Thread, pc uint64) error {
	delete(t.rewound, th.ID())
	bp := t.bps.phys[pc]
	if bp == nil {
		return th.StepInstruction()
	}
	if _, err := t.proc.WriteMemory(pc, []byte{bp.orig}); err != nil {
		return fmt.Errorf("stepping over breakpoint at %#x: %w", pc, err)
	}
	stepErr := th.StepInstruction()
	if _, err := t.proc.WriteMemory(pc, arch.BreakpointInstr); err != nil {
		return errors.Join(stepErr, fmt.Errorf("reinserting breakpoint at %#x: %w", pc, err))
	}
	if stepErr != nil {
		return fmt.Errorf("stepping thread %d over %#x: %w", th.ID(), pc, stepErr)
	}
	return nil
}

// handleTraps rewinds every thread that executed one of our int3s, counts
// user breakpoint hits and evaluates stepping breakpoints. It returns the
// stop to report, if any: a user breakpoint (preferably on the selected
// goroutine) beats the end of a stepping operation.
func (t *Target) handleTraps(trapped []Thread) (Stop, bool, error) {
	var hits, watchHits []*trapHit
	var foreign Thread // a thread stopped by an int3 we did not write
	var condErr error
	for _, th := range trapped {
		// A data watchpoint traps after the access: nothing to rewind.
		wh, isWatch, err := t.watchTrap(th)
		if err != nil && !isWatch {
			return Stop{}, false, err
		}
		if err != nil && condErr == nil {
			condErr = err
		}
		if isWatch {
			if wh != nil {
				watchHits = append(watchHits, wh)
			}
			continue
		}
		regs, err := th.Registers()
		if errors.Is(err, ErrThreadExited) {
			continue
		}
		if err != nil {
			return Stop{}, false, fmt.Errorf("thread %d: %w", th.ID(), err)
		}
		pc := regs.PC() - 1
		if t.bps.phys[pc] == nil && t.bps.kern[pc] == nil {
			var b [1]byte
			if _, err := t.proc.ReadMemory(b[:], pc); err == nil && b[0] == arch.BreakpointInstr[0] && foreign == nil {
				foreign = th
			}
			continue
		}
		if err := th.SetPC(pc); err != nil {
			return Stop{}, false, fmt.Errorf("rewinding thread %d: %w", th.ID(), err)
		}
		regs.Rip = pc
		t.rewound[th.ID()] = pc
		h := &trapHit{th: th, regs: regs, pc: pc}
		if g, err := t.rt.CurrentGoroutine(th); err == nil {
			h.g = g
		}
		hits = append(hits, h)
	}

	userHits := watchHits
	var stepDone, scopeHit *trapHit
	var outOfScope []*Breakpoint
	for _, h := range hits {
		gone, err := t.sentinelHit(h)
		if err != nil {
			return Stop{}, false, err
		}
		if len(gone) > 0 {
			outOfScope, scopeHit = append(outOfScope, gone...), h
		}
		if bp := t.userAt[h.pc]; bp != nil {
			active, err := t.userHit(bp, h.pc, h.g.ID)
			if err != nil && condErr == nil {
				condErr = err
			}
			if active {
				t.threadBP[h.th.ID()] = bp
				userHits = append(userHits, h)
				continue
			}
		}
		done, err := t.evalSteps(h)
		if err != nil {
			return Stop{}, false, err
		}
		if done && stepDone == nil {
			stepDone = h
		}
	}

	// The selected goroutine finishing its step in the same stop as other
	// goroutines' breakpoint hits wins: those hits are counted and stay
	// visible on their threads, nothing is lost.
	stepFirst := stepDone != nil && stepDone.g.ID != 0 && stepDone.g.ID == t.selG
	switch {
	case len(userHits) > 0 && !stepFirst:
		chosen := userHits[0]
		for _, h := range userHits {
			if h.g.ID != 0 && h.g.ID == t.selG {
				chosen = h
				break
			}
		}
		// A user breakpoint hit by the stepping goroutine ends its step;
		// one hit by another goroutine only interrupts it, and, as in
		// Delve, the next Continue finishes the step unless CancelNext.
		var cerr error
		stepDone := false
		if len(t.steps) == 0 || t.steps[0].origin.owns(chosen) {
			// A logpoint's client logs and goes on; it must know whether
			// the step would have ended here too, or that end is lost.
			done, serr := t.evalSteps(chosen)
			stepDone = done && serr == nil
			cerr = t.clearSteps()
		}
		st, err := t.stopOn(chosen.th, StopBreakpoint)
		st.StepDone = stepDone
		st.Breakpoint = t.threadBP[chosen.th.ID()]
		st.Watch = t.watchChange[chosen.th.ID()]
		st.WatchOutOfScope = outOfScope
		t.lastStop = st
		return st, true, errors.Join(err, condErr, cerr)
	case stepDone != nil:
		ret := t.stepReturn()
		cerr := t.clearSteps()
		st, err := t.stopOn(stepDone.th, StopStepDone)
		st.Return = ret
		st.WatchOutOfScope = outOfScope
		t.lastStop = st
		return st, true, errors.Join(err, cerr)
	case scopeHit != nil:
		// As in Delve, the program stops where the frame returned to.
		cerr := t.clearSteps()
		st, err := t.stopOn(scopeHit.th, StopWatchScope)
		st.WatchOutOfScope = outOfScope
		t.lastStop = st
		return st, true, errors.Join(err, condErr, cerr)
	case foreign != nil:
		cerr := t.clearSteps()
		st, err := t.stopOn(foreign, StopTrap)
		return st, true, errors.Join(err, condErr, cerr)
	}
	if condErr != nil {
		// A watchpoint's broken condition stops the program, as a
		// breakpoint's does.
		st, err := t.stopOn(nil, StopHalted)
		return st, true, errors.Join(err, condErr)
	}
	return Stop{}, false, nil
}

// stopOn selects th (the selected thread when nil) and its goroutine and
// describes the stop there.
func (t *Target) stopOn(th Thread, reason StopReason) (Stop, error) {
	if th == nil {
		var err error
		if th, err = t.selectedThread(); err != nil {
			return Stop{}, err
		}
	}
	regs, err := th.Registers()
	if err != nil {
		return Stop{}, fmt.Errorf("thread %d: %w", th.ID(), err)
	}
	st := Stop{Reason: reason, ThreadID: th.ID(), PC: regs.PC()}
	if g, err := t.rt.CurrentGoroutine(th); err == nil {
		st.GoroutineID = g.ID
	}
	st.File, st.Line, st.Function, _ = t.sym.PCToLine(st.PC)
	t.selThread, t.selG = th.ID(), st.GoroutineID
	t.lastStop = st
	return st, nil
}
