package dap

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/api"
)

// Execution commands, by their Delve API name.
const (
	cmdContinue = api.Continue
	cmdNext     = api.Next
	cmdStepIn   = api.Step
	cmdStepOut  = api.StepOut
)

// runControl tracks the goroutine that runs the target.
//
// Changing breakpoints while the target runs needs it stopped: the
// request goroutine sets editPending and halts the target; the run
// goroutine, seeing its command return with editPending set, hands the
// stopped target over (editStopped) and waits for the edit to finish
// (editDone), then resumes if it was only stopped for the edit, or
// reports the stop that happened meanwhile.
type runControl struct {
	mu          sync.Mutex
	active      bool
	editPending bool
	editStopped chan struct{}
	editDone    chan chan struct{} // carries the channel closed once resumed

	pauseRequested atomic.Bool
	wg             sync.WaitGroup

	// dead is closed when a run goroutine panicked, so that no request
	// waits for a hand-over it will never make.
	dead     chan struct{}
	deadOnce sync.Once
}

func (rc *runControl) init() {
	rc.editStopped = make(chan struct{})
	rc.editDone = make(chan chan struct{})
	rc.dead = make(chan struct{})
}

// runFault, when a test sets it, runs after each command of the run
// goroutine: the place a bug in stop handling would panic.
var runFault func()

// isActive reports whether a command runs the target.
func (rc *runControl) isActive() bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.active
}

// wait waits for the run goroutine to end.
func (rc *runControl) wait() { rc.wg.Wait() }

// resume starts cmd on the run goroutine and returns once the target is
// running (or the command failed), so that a pause read next finds it
// running.
func (s *session) resume(cmd string) {
	s.run.pauseRequested.Store(false)
	s.state.forgetThreads()
	s.run.mu.Lock()
	s.run.active = true
	s.run.mu.Unlock()
	resumed := make(chan struct{})
	s.run.wg.Add(1)
	go s.runLoop(cmd, resumed)
	<-resumed
}

// runLoop runs cmd until the target stops for a reason the client must
// hear about, then reports it.
func (s *session) runLoop(cmd string, resumed chan struct{}) {
	defer s.run.wg.Done()
	defer s.recoverRun()
	for {
		st, err := s.dbg.CommandEvents(api.DebuggerCommand{Name: cmd}, resumed, s.spawned)
		if runFault != nil {
			runFault()
		}
		s.run.mu.Lock()
		logsOnly := !s.run.editPending && err == nil && !s.run.pauseRequested.Load() && s.logHits(st)
		if logsOnly && s.dbg.StopEndedStep() {
			// The step ended at the logpoint: it has printed, and the
			// client hears of the step's end, as in Delve.
			st.StopReason, logsOnly = "next finished", false
		}
		if logsOnly {
			// Only logpoints stopped the target: they have printed, it
			// goes on.
			s.run.mu.Unlock()
			cmd, resumed = cmdContinue, nil
			continue
		}
		if !s.run.editPending {
			if err == nil && st != nil && !st.Exited && st.StopReason != "manual" {
				// Reset before the client can ask: its frame and
				// variable ids belong to the previous stop.
				s.state.reset()
			}
			s.endKernelHold(st, err) // before a request can find the target stopped
			s.run.active = false
			s.run.mu.Unlock()
			s.reportStop(st, err)
			return
		}
		s.run.editPending = false
		s.run.mu.Unlock()
		s.run.editStopped <- struct{}{}
		resumed = <-s.run.editDone
		if err == nil && st != nil && !st.Exited && st.StopReason == "manual" && !s.run.pauseRequested.Load() {
			// Stopped only for the edit: go on. An interrupted next or
			// step cannot be taken up again, so a continue finishes it.
			cmd = cmdContinue
			continue
		}
		close(resumed)
		s.run.mu.Lock()
		s.endKernelHold(st, err)
		s.run.active = false
		s.run.mu.Unlock()
		s.reportStop(st, err)
		return
	}
}

// recoverRun ends the session when the run goroutine panics. The target is
// released as at the session's end, a launched program killed and an
// attached one detached with its breakpoints removed, never left stopped
// with them in; the client and the log get one line saying why.
func (s *session) recoverRun() {
	r := recover()
	if r == nil {
		return
	}
	msg := fmt.Sprintf("internal error while running the target: %v; ending the session", r)
	s.closing.Store(true) // no stop of the dying run is reported
	s.run.mu.Lock()
	s.run.active, s.run.editPending = false, false
	s.run.mu.Unlock()
	s.run.deadOnce.Do(func() { close(s.run.dead) })
	s.closeKernelLogs()
	if err := s.dbg.Detach(!s.attached); err != nil && !isExited(err) {
		msg += fmt.Sprintf(" (releasing the target: %v)", err)
	}
	s.logf("%s", msg)
	s.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{Output: msg + "\n", Category: "stderr"}})
	s.send(&dap.TerminatedEvent{Event: event("terminated")})
}

// whileHalted runs edit with the target stopped, resuming it afterwards
// unless it stopped on its own meanwhile.
func (s *session) whileHalted(edit func()) {
	s.run.mu.Lock()
	if !s.run.active {
		s.run.mu.Unlock()
		edit()
		return
	}
	s.run.editPending = true
	s.run.mu.Unlock()
	s.dbg.Halt()
	select {
	case <-s.run.editStopped:
	case <-s.run.dead:
		edit() // on a released target: it reports its own failure
		return
	}
	edit()
	resumed := make(chan struct{})
	select {
	case s.run.editDone <- resumed:
	case <-s.run.dead:
		return
	}
	select {
	case <-resumed:
	case <-s.run.dead:
	}
}

func (s *session) onContinue(r *dap.ContinueRequest) {
	s.send(&dap.ContinueResponse{Response: s.response(r.Request), Body: dap.ContinueResponseBody{AllThreadsContinued: true}})
	s.resume(cmdContinue)
}

// onStep runs next, stepIn or stepOut on goroutine goid (DAP's threadId).
func (s *session) onStep(req dap.Request, goid int, cmd string, granularity dap.SteppingGranularity) {
	if goid > 0 {
		if _, err := s.dbg.Command(api.DebuggerCommand{Name: api.SwitchGoroutine, GoroutineID: int64(goid)}, nil); err != nil {
			s.sendError(req, errInternal, "Unable to step", fmt.Sprintf("switching to goroutine %d: %v", goid, err), true)
			return
		}
	}
	// Every goroutine runs while one steps; the continued event says so.
	s.send(&dap.ContinuedEvent{Event: event("continued"), Body: dap.ContinuedEventBody{ThreadId: goid, AllThreadsContinued: true}})
	var resp dap.Message
	switch cmd {
	case cmdNext:
		resp = &dap.NextResponse{Response: s.response(req)}
	case cmdStepIn:
		resp = &dap.StepInResponse{Response: s.response(req)}
	default:
		resp = &dap.StepOutResponse{Response: s.response(req)}
	}
	s.send(resp)
	if granularity == "instruction" {
		// One instruction, whichever step was asked for, as Delve does.
		cmd = api.StepInstruction
	}
	s.holdKernelLogs() // kernellogs.go
	s.resume(cmd)
}

// onPause halts a running target; the stop is reported by the run
// goroutine. A pause of a stopped target has nothing to do.
func (s *session) onPause(r *dap.PauseRequest) {
	if s.dbg == nil {
		s.sendError(r.Request, errHalt, "Unable to halt execution", "no debug session started", false)
		return
	}
	if s.run.isActive() {
		s.run.pauseRequested.Store(true)
		s.dbg.Halt()
	}
	s.send(&dap.PauseResponse{Response: s.response(r.Request)})
}

// reportStop tells the client why the target stopped, or that it exited.
func (s *session) reportStop(st *api.DebuggerState, err error) {
	if s.closing.Load() {
		return
	}
	if err == nil && st != nil && st.Exited {
		// The target's last words come before its exit.
		s.waitOutput(2 * time.Second)
		s.closeKernelLogs()
		s.send(&dap.ExitedEvent{Event: event("exited"), Body: dap.ExitedEventBody{ExitCode: st.ExitStatus}})
		s.send(&dap.TerminatedEvent{Event: event("terminated")})
		return
	}
	if err != nil && isExited(err) {
		s.closeKernelLogs()
		s.send(&dap.TerminatedEvent{Event: event("terminated")})
		return
	}
	s.state.reset()
	ev := &dap.StoppedEvent{Event: event("stopped"), Body: dap.StoppedEventBody{AllThreadsStopped: true}}
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	s.lastErr.Store(errText)
	if err != nil {
		ev.Body.Reason, ev.Body.Description, ev.Body.Text = "exception", "runtime error", err.Error()
		if err.Error() == "next while nexting" {
			ev.Body.Description = "invalid command"
			ev.Body.Text = "Unable to step while the previous step is interrupted by a breakpoint.\nUse 'Continue' to resume the original step command."
		}
		if cur, serr := s.dbg.State(true); serr == nil {
			ev.Body.ThreadId = stoppedGoroutine(cur)
		}
		s.send(ev)
		return
	}
	ev.Body.ThreadId = stoppedGoroutine(st)
	switch st.StopReason {
	case "next finished":
		ev.Body.Reason = "step"
	case "manual":
		ev.Body.Reason = "pause"
	default:
		ev.Body.Reason = "breakpoint"
		if th := st.CurrentThread; th != nil && th.Breakpoint != nil {
			ev.Body.HitBreakpointIds = []int{th.Breakpoint.ID}
			if s.bps.isFunction(th.Breakpoint.ID) {
				ev.Body.Reason = "function breakpoint"
			}
			if s.bps.isInstruction(th.Breakpoint.ID) {
				ev.Body.Reason = "instruction breakpoint"
			}
			if th.Breakpoint.WatchExpr != "" {
				// Delve names no breakpoint for a watchpoint's stop.
				ev.Body.Reason, ev.Body.HitBreakpointIds = "data breakpoint", nil
			}
			if id, text, ok := s.exception(th); ok {
				ev.Body.Reason, ev.Body.Description, ev.Body.Text = "exception", id, text
			}
		}
	}
	if s.run.pauseRequested.Load() {
		// The user asked to pause: whatever else stopped the target at
		// the same time, the pause is what the user waits for.
		ev.Body.Reason, ev.Body.HitBreakpointIds = "pause", nil
	}
	if ev.Body.Reason == "pause" && st.NextInProgress {
		// A pause abandons an interrupted step, as in Delve.
		if err := s.dbg.CancelNext(); err != nil {
			s.logf("cancelling the interrupted step: %v", err)
		}
	}
	s.send(ev)
	if st.NextInProgress && ev.Body.Reason != "pause" {
		s.console("Step interrupted by a breakpoint. Use 'Continue' to resume the original step command.")
	}
}

// stoppedGoroutine is the goroutine the client should show: the selected
// one, or the current thread's. A stop outside any goroutine shows as 1,
// the id the client was given at entry.
func stoppedGoroutine(st *api.DebuggerState) int {
	switch {
	case st.SelectedGoroutine != nil && st.SelectedGoroutine.ID != 0:
		return int(st.SelectedGoroutine.ID)
	case st.CurrentThread != nil && st.CurrentThread.GoroutineID != 0:
		return int(st.CurrentThread.GoroutineID)
	}
	return 1
}
