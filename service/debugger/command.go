package debugger

import (
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/core"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/service/api"
)

// State returns the debugger state. With nonBlocking set it answers at once
// while the target runs (Running set, nothing else known); otherwise it
// waits for the running command to stop.
func (d *Debugger) State(nonBlocking bool) (*api.DebuggerState, error) {
	if nonBlocking && d.running.Load() {
		return &api.DebuggerState{Pid: d.ProcessPid(), Running: true, TargetCommandLine: d.commandLine()}, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.detached {
		return nil, errors.New("detached from the target")
	}
	if err := d.exitedErr(); err != nil {
		return nil, err
	}
	return d.describe()
}

// describe is state(nil) run on the ptrace thread; callers hold mu.
func (d *Debugger) describe() (st *api.DebuggerState, err error) {
	xerr := onTracer(d.target, func() { st, err = d.state(nil) })
	return st, errors.Join(err, xerr)
}

// onTracer runs f on the backend's ptrace thread when the backend has one,
// so that the dozens of register reads and thread queries that describe a
// stop run there directly instead of each handing work to that thread and
// waiting for it (two context switches apiece). When the process is gone f
// runs where it is. The error is f's panic, recovered on that thread.
func onTracer(t *proc.Target, f func()) error {
	ran := false
	err := t.Process().Exclusive(func() { ran = true; f() })
	if !ran {
		f()
		return nil
	}
	return err
}

// commandOne runs one execution command on this Debugger's target (Command
// in group.go adds the other targets of a group). resumed, when not nil, is closed
// once the command holds the target (and, for resuming commands, the
// target is marked running), so a server can read the next request
// knowing that a following halt will find the target running.
func (d *Debugger) commandOne(cmd api.DebuggerCommand, resumed chan<- struct{}) (*api.DebuggerState, error) {
	notify := func() {
		if resumed != nil {
			close(resumed)
			resumed = nil
		}
	}
	defer notify()
	if cmd.Name == api.Halt {
		d.Halt()
		notify()
	}
	t, unlock, err := d.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()

	var run func() (proc.Stop, error)
	switch cmd.Name {
	case api.Halt:
		if d.exitedErr() != nil {
			return d.exitedState(t), nil
		}
		return d.describe()
	case api.SwitchThread:
		notify()
		if err := t.SwitchThread(cmd.ThreadID); err != nil {
			return nil, err
		}
		return d.describe()
	case api.SwitchGoroutine:
		notify()
		if err := d.switchGoroutine(t, cmd.GoroutineID); err != nil {
			return nil, err
		}
		return d.describe()
	case api.Continue:
		run = t.Continue
	case api.Next:
		run = t.Next
	case api.Step:
		run = t.Step
	case api.StepOut:
		run = t.StepOut
	case api.StepInstruction:
		run = t.StepInstruction
	case api.NextInstruction:
		run = func() (proc.Stop, error) { return d.nextInstruction(t) }
	case api.Call:
		// resolved below, once the process is known to be alive
	default:
		return nil, fmt.Errorf("command %q is not supported by tinydbg", cmd.Name)
	}
	if d.exitedErr() != nil {
		// Delve answers a command on a process already gone with the
		// exited state, as if the process had ended during it; its
		// client turns that into the error the user sees.
		return d.exitedState(t), nil
	}
	if d.cfg.CoreFile != "" {
		return nil, core.ErrContinueCore
	}
	if cmd.Name == api.Call {
		// The expression's inner calls run the program before its own
		// call does: the first of them tells the server a halt may come
		// (exprCalls.callInner), once it finds the target running.
		run, err = d.prepareCall(t, cmd, notify)
		// Its inner calls, allocations and pins ran the program, even
		// when the expression then failed.
		d.forgetG()
		if err != nil {
			return nil, err
		}
	}
	if cmd.Name == api.Next || cmd.Name == api.Step || cmd.Name == api.StepOut {
		// Delve refuses to start a second stepping operation while an
		// interrupted one still has its breakpoints armed: the user
		// finishes it with continue or drops it with CancelNext.
		if d.nextInProgress(t) {
			return nil, errors.New("next while nexting")
		}
	}
	// As in Delve, next, step and stepout report the results of the
	// function they leave by returning.
	var retCfg *api.LoadConfig
	switch cmd.Name {
	case api.Next, api.Step, api.StepOut:
		retCfg = cmd.ReturnInfoLoadConfig
	case api.Continue:
		if d.nextInProgress(t) {
			// Continuing finishes an interrupted step: its results
			// are still the ones to show.
			retCfg = d.pendingRet
		}
	}
	d.pendingRet = nil
	d.running.Store(true)
	notify()
	var st *api.DebuggerState
	// The resume, the stop and its description form one job for the
	// ptrace thread: see onTracer.
	xerr := onTracer(t, func() { st, err = d.runAndDescribe(t, run, cmd, retCfg) })
	if xerr != nil {
		d.running.Store(false) // runAndDescribe panicked before it could
	}
	return st, errors.Join(err, xerr)
}

// runAndDescribe resumes the target with run and describes where it
// stopped; retCfg, when set, loads the results of a function the step
// returns from.
func (d *Debugger) runAndDescribe(t *proc.Target, run func() (proc.Stop, error), cmd api.DebuggerCommand, retCfg *api.LoadConfig) (*api.DebuggerState, error) {
	d.forgetG() // whatever run does, the goroutines may have changed
	stop, err := run()
	for err == nil && stop.Reason == proc.StopCallReturned && d.call != nil && d.call.rest != nil {
		// An inner call of an expression returned: the same command
		// goes on with the expression, as Delve's continue does.
		rest := d.call.rest
		d.call = nil
		d.forgetG()
		if run, err = rest(stop); err == nil {
			d.forgetG()
			stop, err = run()
		}
	}
	d.forgetG()
	d.running.Store(false)
	d.lastStop = stop
	gone := d.dropOutOfScope(stop)
	d.stopReason = stopReasonName(stop.Reason)
	if err != nil {
		if errors.Is(err, proc.ErrProcessExited) {
			return d.exitedState(t), nil
		}
		return nil, err
	}
	if stop.Reason == proc.StopExited || stop.Reason == proc.StopKilled {
		return d.exitedState(t), nil
	}
	st, err := d.state(cmd.ReturnInfoLoadConfig)
	if err != nil {
		return nil, err
	}
	d.describeWatchStop(t, stop, gone, st)
	if err := d.describeCallStop(stop, st); err != nil {
		return nil, err
	}
	if retCfg != nil && stop.Reason == proc.StopStepDone && stop.Return != nil && st.CurrentThread != nil {
		st.CurrentThread.ReturnValues = d.returnValues(t, stop, *retCfg)
	}
	if retCfg != nil && st.NextInProgress {
		d.pendingRet = retCfg
	}
	return st, nil
}

// exitedState is the state Delve reports for a process that exited
// during a command: only the pid and the exit status.
func (d *Debugger) exitedState(t *proc.Target) *api.DebuggerState {
	_, code := t.Exited() // -N for a process killed by signal N, as in Delve
	return &api.DebuggerState{Pid: t.Pid(), Exited: true, ExitStatus: code, TargetCommandLine: d.commandLine()}
}

// switchGoroutine selects goid, running or parked. A parked goroutine
// becomes the scope of later commands and the one next, step and stepout
// follow; the selected thread stays where it is, as in Delve.
func (d *Debugger) switchGoroutine(t *proc.Target, goid int64) error {
	if _, err := d.findG(t, goid); err != nil {
		return err
	}
	if err := t.SelectGoroutine(goid); err != nil {
		return fmt.Errorf("selecting goroutine %d: %w", goid, err)
	}
	return nil
}

// selectedG returns the goroutine id scopes default to.
func (d *Debugger) selectedG(t *proc.Target) int64 { return t.SelectedGoroutine() }

// state builds the DebuggerState of a stopped, live target; callers hold mu.
func (d *Debugger) state(retCfg *api.LoadConfig) (*api.DebuggerState, error) {
	t := d.target
	ths, err := t.Threads()
	if err != nil {
		return nil, err
	}
	st := &api.DebuggerState{Pid: t.Pid(), TargetCommandLine: d.commandLine()}
	sel := t.SelectedThread()
	for i := range ths {
		th := d.convertThread(&ths[i])
		st.Threads = append(st.Threads, th)
		if th.ID == sel {
			st.CurrentThread = th
		}
	}
	if st.CurrentThread == nil && len(st.Threads) > 0 {
		st.CurrentThread = st.Threads[0]
	}
	if goid := d.selectedG(t); goid != 0 {
		if g, err := d.selectedGoroutine(t, goid, ths); err == nil {
			st.SelectedGoroutine = d.convertG(t, g, ths)
		}
	}
	st.StopReason = d.stopReason
	st.NextInProgress = d.nextInProgress(t)
	if d.stopReason == "breakpoint" {
		d.fillStopInfo(t, st)
	}
	return st, nil
}

// selectedGoroutine reads goroutine goid through the thread running it,
// which the stop already knows, instead of reading every goroutine of the
// program to find it; a parked goroutine is looked up in the list.
func (d *Debugger) selectedGoroutine(t *proc.Target, goid int64, ths []proc.ThreadInfo) (*goroutine.G, error) {
	if ti := threadRegsOf(ths, goid); ti != nil {
		regs := ti.Regs
		if g, err := goroutine.Current(d.bi, t.Process(), &regs); err == nil && g != nil && int64(g.ID) == goid {
			return g, nil
		}
	}
	return d.findG(t, goid)
}

// stopReasonName names a stop reason with Delve's words.
func stopReasonName(r proc.StopReason) string {
	switch r {
	case proc.StopBreakpoint:
		return "breakpoint"
	case proc.StopHalted:
		return "manual"
	case proc.StopStepDone:
		return "next finished"
	case proc.StopTrap:
		return "hardcoded breakpoint"
	case proc.StopCallReturned:
		return "call returned"
	case proc.StopWatchScope:
		return "breakpoint"
	case proc.StopExited, proc.StopKilled:
		return "exited"
	}
	return "unknown"
}

// nextTracker is what a target offers to keep a next, step or stepout
// that another goroutine's breakpoint interrupted, as Delve does; the
// terminal then asks whether to continue, cancel or finish it. It is
// consumer-owned; proc.Target implements it.
type nextTracker interface {
	// NextInProgress reports whether stepping breakpoints are still armed.
	NextInProgress() bool
	// CancelNext removes them.
	CancelNext() error
}

// proc.Target must keep satisfying nextTracker: a signature drift would
// silently turn the assertion below false.
var _ nextTracker = (*proc.Target)(nil)

// nextInProgress reports whether an interrupted stepping operation is
// still armed on a live target.
func (d *Debugger) nextInProgress(t *proc.Target) bool {
	if exited, _ := t.Exited(); exited {
		return false
	}
	nt, ok := any(t).(nextTracker)
	return ok && nt.NextInProgress()
}

// CancelNext abandons a next, step or stepout that a breakpoint of another
// goroutine interrupted; it does nothing when none is in progress.
func (d *Debugger) CancelNext() error {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return err
	}
	defer unlock()
	d.pendingRet = nil
	if nt, ok := any(t).(nextTracker); ok {
		return nt.CancelNext()
	}
	return nil
}

// StopEndedStep reports whether the last stop, at a breakpoint, is also
// where the next, step or stepout that ran ended: a client that goes on
// from a logpoint reports the step's end there instead.
func (d *Debugger) StopEndedStep() bool {
	_, unlock, err := d.lockAlive()
	if err != nil {
		return false
	}
	defer unlock()
	return d.lastStop.Reason == proc.StopBreakpoint && d.lastStop.StepDone
}
