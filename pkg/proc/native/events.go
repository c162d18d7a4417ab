package native

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// eventKind classifies one wait4 report after handle has updated the state.
type eventKind int

const (
	evIgnored     eventKind = iota // an event stop, group-stop or stray report: just resume
	evTrap                         // SIGTRAP from the kernel: breakpoint, single-step
	evOwnStop                      // a SIGSTOP the debugger sent (or a new thread's first stop), swallowed
	evSignal                       // a signal for the program, queued in Thread.pending
	evThreadGone                   // a thread other than the leader ended
	evProcessGone                  // the leader ended: the process is over
)

// event is what handle learnt from one wait4 report.
type event struct {
	kind     eventKind
	t        *Thread // nil for evProcessGone and reports about unknown tids
	exitCode int
	signal   int
	// fault marks a kernel-raised SIGSEGV, SIGBUS, SIGFPE or SIGILL: the
	// instruction at the thread's PC failed and did not complete.
	fault bool
	// watch has bit i set when debug-register slot i caused this trap.
	watch uint8
}

// handle updates the thread table for one wait4 report and classifies it.
// It never resumes anything; the caller decides that according to its mode.
func (p *Process) handle(tid int, ws unix.WaitStatus) event {
	p.mu.Lock()
	t := p.threads[tid]
	p.mu.Unlock()
	if t == nil && p.isChild(tid) {
		return p.childEvent(tid, ws) // follow.go
	}

	if ws.Exited() || ws.Signaled() {
		code, sig := ws.ExitStatus(), 0
		if ws.Signaled() {
			code, sig = 0, int(ws.Signal())
		}
		if tid == p.pid {
			p.markExited()
			return event{kind: evProcessGone, exitCode: code, signal: sig}
		}
		p.mu.Lock()
		delete(p.threads, tid)
		if p.reaped == nil {
			p.reaped = map[int]bool{}
		}
		p.reaped[tid] = true
		p.mu.Unlock()
		return event{kind: evThreadGone, t: t}
	}
	if !ws.Stopped() {
		return event{kind: evIgnored, t: t}
	}
	if t == nil {
		// A new thread can report its first stop before its parent reports
		// the clone event; that stop is its auto-attach SIGSTOP.
		t = &Thread{p: p, tid: tid}
		p.mu.Lock()
		p.threads[tid] = t
		delete(p.reaped, tid) // the kernel reused the id for a new thread
		p.mu.Unlock()
		t.stopped, t.inSignalStop = true, true
		return event{kind: evOwnStop, t: t}
	}
	t.stopped = true
	sig := ws.StopSignal()
	if sig == unix.SIGTRAP && ws.TrapCause() != 0 {
		t.inSignalStop = false
		if ws.TrapCause() == unix.PTRACE_EVENT_CLONE {
			p.addClonedThread(t)
		}
		p.noteFork(t, ws.TrapCause())
		return event{kind: evIgnored, t: t}
	}
	info, err := getSiginfo(tid)
	if err != nil {
		// EINVAL here means group-stop: a stop signal already delivered
		// reached this thread; resuming without a signal undoes it.
		t.inSignalStop = false
		return event{kind: evIgnored, t: t}
	}
	t.inSignalStop = true
	switch {
	case sig == unix.SIGTRAP && (info.code() > 0 || p.int3WithoutInfo(t, &info)):
		// A kernel condition's signal comes with the registers its probe
		// saw, put back here as an int3 hit would have left them.
		p.takeKernelHit(t)
		// DR6 tells a data watchpoint (trap after the access) from an
		// int3 or a single step; the hit waits on the thread for the core.
		return event{kind: evTrap, t: t, watch: p.noteWatchHit(t)}
	case sig == unix.SIGSTOP && p.consumeExpectedStop(t):
		return event{kind: evOwnStop, t: t}
	}
	t.queueSignal(int(sig), info)
	fault := info.code() > 0 && (sig == unix.SIGSEGV || sig == unix.SIGBUS || sig == unix.SIGFPE || sig == unix.SIGILL)
	return event{kind: evSignal, t: t, signal: int(sig), fault: fault}
}

// int3WithoutInfo recognizes an int3's SIGTRAP that reached the thread
// without its siginfo. When the kernel dequeues a signal it had no queue
// entry for, it makes one up with si_code SI_USER and si_pid 0: an int3
// hit then reads like a kill from nowhere. A broad trace of gofmt saw it
// in about one run in four (once in some 800,000 stops), and passing it
// on as the program's own signal killed the program with SIGTRAP. A kill
// sent from this pid namespace carries its sender's pid, so what stands
// just past an int3 with no sender is taken for the trap it is.
func (p *Process) int3WithoutInfo(t *Thread, info *siginfo) bool {
	if info.code() != 0 || info.pid() != 0 {
		return false
	}
	var regs unix.PtraceRegs
	if unix.PtraceGetRegs(t.tid, &regs) != nil || regs.Rip == 0 {
		return false
	}
	var b [1]byte
	n, err := p.readOnPtraceThread(b[:], regs.Rip-1)
	return err == nil && n == 1 && b[0] == arch.BreakpointInstr[0]
}

// addClonedThread registers the thread parent just created. The kernel
// attaches it with a SIGSTOP, which is expected unless it was already seen.
func (p *Process) addClonedThread(parent *Thread) {
	msg, err := unix.PtraceGetEventMsg(parent.tid)
	if err != nil {
		return
	}
	tid := int(msg)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.threads[tid]; !ok && !p.reaped[tid] {
		p.threads[tid] = &Thread{p: p, tid: tid, expectedStops: 1}
	}
}

func (p *Process) consumeExpectedStop(t *Thread) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.expectedStops == 0 {
		return false
	}
	t.expectedStops--
	return true
}

// queueSignal remembers a program signal. Standard signals do not queue in
// the kernel either, so a second one of the same number is dropped.
func (t *Thread) queueSignal(sig int, info siginfo) {
	for _, s := range t.pending {
		if s.sig == sig {
			return
		}
	}
	t.pending = append(t.pending, pendingSignal{sig: sig, info: info})
}

func (p *Process) markExited() {
	p.mu.Lock()
	p.exited = true
	p.threads = map[int]*Thread{}
	p.mu.Unlock()
	p.mem.Close()
	p.kern.closeProbes()
}

// resume restarts a stopped thread with req (PTRACE_CONT or
// PTRACE_SINGLESTEP). With deliver, owed signals go to the program.
func (p *Process) resume(t *Thread, req int, deliver bool) error {
	if req == unix.PTRACE_CONT {
		p.settleKernelHit(t)
	}
	sig, extra := 0, []pendingSignal(nil)
	if deliver {
		sig, extra = t.takePending()
	}
	// A new thread starts with no debug registers (clone does not copy
	// them), and a changed watchpoint reaches a thread before it runs.
	if err := p.applyWatch(t); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	err := ptrace(req, t.tid, 0, uintptr(sig))
	if err != nil && err != unix.ESRCH {
		return fmt.Errorf("resuming thread %d: %w", t.tid, err)
	}
	// ESRCH: the thread is dying (SIGKILL); its exit report will follow.
	t.stopped = false
	for _, s := range extra {
		_ = unix.Tgkill(p.pid, t.tid, unix.Signal(s.sig))
	}
	return nil
}

// Continue resumes every thread and waits until a thread traps, RequestHalt
// is honoured or the process ends. Signals meant for the program are passed
// on without returning. On proc.StopKindTrap and proc.StopKindHalt every
// thread is stopped.
func (p *Process) Continue() (StopEvent, error) {
	var ev StopEvent
	err := p.do(func() error {
		var err error
		ev, err = p.cont()
		return err
	})
	return ev, err
}

func (p *Process) cont() (StopEvent, error) {
	if ev, ok, err := p.beginRun(); !ok {
		return ev, err
	}
	defer p.endRun()
	trapped, exit, over, err := p.waitStop()
	if err != nil || over {
		return exit, err
	}
	kind, traps := proc.StopKindHalt, []*Thread(nil)
	if trapped != nil {
		kind, traps = proc.StopKindTrap, []*Thread{trapped}
	}
	ev, err := p.stopAll(traps, kind)
	if err == nil && ev.Kind == proc.StopKindTrap {
		p.advanceKernelHits(ev.Trapped)
		// A halt that met traps (even one whose stop found a trap
		// on the way) must not be lost if the caller resumes past
		// them; endRun drops the request.
		p.mu.Lock()
		ev.HaltRequested = p.halt
		p.mu.Unlock()
	}
	return ev, err
}

// beginRun marks the process running for Continue or RunProbes and resumes
// every stopped thread. When it returns !ok the run is over before it began,
// with ev and err to return: proc.StopKindHalt if RequestHalt came first (consuming
// the request), or the error that stopped resuming.
func (p *Process) beginRun() (ev StopEvent, ok bool, err error) {
	p.mu.Lock()
	if p.halt {
		p.halt = false
		p.mu.Unlock()
		return StopEvent{Kind: proc.StopKindHalt}, false, nil
	}
	p.running = true
	p.mu.Unlock()
	if err := p.resumeAll(); err != nil {
		p.endRun()
		return StopEvent{}, false, err
	}
	return StopEvent{}, true, nil
}

// endRun ends what beginRun began; a halt requested too late to stop this
// run must not stop the next one.
func (p *Process) endRun() {
	p.mu.Lock()
	p.running, p.halt = false, false
	p.mu.Unlock()
}

// waitStop is the wait loop of a run (Continue or RunProbes) while threads
// run: it resumes every thread whose report needs no decision (program
// signals, clone and group stops, the debugger's own SIGSTOPs, thread exits)
// and returns at the first report that does: a SIGTRAP (trapped is its
// thread), the end of the process (over, with its exit event), or a stop
// after RequestHalt (neither).
func (p *Process) waitStop() (trapped *Thread, exit StopEvent, over bool, err error) {
	for {
		tid, ws, err := waitAny()
		if err != nil {
			return nil, StopEvent{}, false, fmt.Errorf("waiting for process %d: %w", p.pid, err)
		}
		e := p.handle(tid, ws)
		switch e.kind {
		case evProcessGone:
			return nil, exitEvent(e), true, nil
		case evTrap:
			return e.t, StopEvent{}, false, nil
		case evThreadGone:
			continue
		case evOwnStop:
			p.mu.Lock()
			halt := p.halt
			p.mu.Unlock()
			if halt {
				return nil, StopEvent{}, false, nil
			}
		}
		if e.t != nil {
			if err := p.resume(e.t, unix.PTRACE_CONT, true); err != nil {
				return nil, StopEvent{}, false, err
			}
		}
	}
}

func exitEvent(e event) StopEvent {
	if e.signal != 0 {
		return StopEvent{Kind: proc.StopKindKilled, Signal: e.signal}
	}
	return StopEvent{Kind: proc.StopKindExited, ExitCode: e.exitCode}
}

// stopAll brings every thread to a ptrace-stop with SIGSTOP. Threads that
// report something else on the way stay stopped there: a trap joins the
// trapped list, a program signal waits in pending for the next Continue. Their
// SIGSTOP stays expected and is swallowed whenever it shows up.
func (p *Process) stopAll(trapped []*Thread, kind proc.StopKind) (StopEvent, error) {
	p.mu.Lock()
	for _, t := range p.threads {
		if !t.stopped && t.expectedStops == 0 && unix.Tgkill(p.pid, t.tid, unix.SIGSTOP) == nil {
			t.expectedStops++
		}
	}
	p.mu.Unlock()
	for !p.allStopped() {
		tid, ws, err := waitAny()
		if err != nil {
			return StopEvent{}, fmt.Errorf("stopping process %d: %w", p.pid, err)
		}
		e := p.handle(tid, ws)
		switch e.kind {
		case evProcessGone:
			return exitEvent(e), nil
		case evTrap:
			trapped = append(trapped, e.t)
		}
	}
	if len(trapped) > 0 {
		kind = proc.StopKindTrap
	}
	return StopEvent{Kind: kind, Trapped: trapped}, nil
}

func (p *Process) allStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.threads {
		if !t.stopped {
			return false
		}
	}
	return true
}

// StepInstruction executes one instruction on this thread while the others
// stay stopped. A signal arriving meanwhile is kept for the next Continue and
// the step retried; an instruction that faults ends the step where it is,
// with the fault kept for the next Continue. If the process ends during the step the error is a
// *proc.ProcessExitedError; if only this thread ends, a *ThreadExitedError.
func (t *Thread) StepInstruction() error {
	return t.p.do(func() error { return t.p.step(t) })
}

func (p *Process) step(t *Thread) error {
	if cur, ok := p.Thread(t.tid); !ok || cur != t {
		return &ThreadExitedError{Tid: t.tid}
	}
	if !t.stopped {
		return fmt.Errorf("step thread %d: %w", t.tid, ErrThreadRunning)
	}
	if p.settleKernelHit(t) {
		return nil // the kernel ran the instruction already
	}
	// Stepping through a kernel condition's probe must not evaluate it.
	var regs unix.PtraceRegs
	skipped := unix.PtraceGetRegs(t.tid, &regs) == nil && p.skipOnce(t, regs.Rip)
	if skipped {
		defer p.unskip(t)
	}
	done := false
	for !done || !p.allStopped() {
		if !done && t.stopped {
			if err := p.resume(t, unix.PTRACE_SINGLESTEP, false); err != nil {
				return err
			}
		}
		tid, ws, err := waitAny()
		if err != nil {
			return fmt.Errorf("step thread %d: %w", t.tid, err)
		}
		e := p.handle(tid, ws)
		switch {
		case e.kind == evProcessGone:
			return &proc.ProcessExitedError{Pid: p.pid, ExitCode: e.exitCode, Signal: e.signal}
		case e.t != t:
			// Another thread: a clone's first stop or its death. It stays
			// stopped; the loop only ends once every thread is.
		case e.kind == evThreadGone:
			return &ThreadExitedError{Tid: t.tid}
		case e.kind == evTrap:
			done = true
		case skipped && p.uprobeStepTrap(t, e):
			done = true
		case e.kind == evSignal && e.fault:
			// The instruction faulted: stepping again would fault again
			// forever. The thread stays on it, its signal owed to the
			// program on the next Continue, as the fault would have been.
			done = true
		}
	}
	return nil
}

// drainExpectedStops collects the SIGSTOPs the debugger sent but has not seen
// yet, so that none reaches the program after Detach (it would stop the whole
// process). A thread is resumed only if the kernel really holds a SIGSTOP for
// it, so it returns to the stop before running any instruction.
func (p *Process) drainExpectedStops() {
	for _, t := range p.Threads() {
		for {
			p.mu.Lock()
			expected := t.expectedStops
			p.mu.Unlock()
			if expected == 0 || !t.stopped {
				break
			}
			if !p.sigstopPending(t.tid) {
				p.mu.Lock()
				t.expectedStops = 0
				p.mu.Unlock()
				break
			}
			if p.resume(t, unix.PTRACE_CONT, false) != nil {
				break
			}
			for !t.stopped {
				tid, ws, err := waitAny()
				if err != nil {
					return
				}
				if e := p.handle(tid, ws); e.kind == evProcessGone {
					return
				}
				if _, alive := p.Thread(t.tid); !alive {
					break
				}
			}
		}
	}
}

// sigstopPending reads the thread's and the process's pending-signal masks.
func (p *Process) sigstopPending(tid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", p.pid, tid))
	if err != nil {
		return false
	}
	const bit = uint64(1) << (unix.SIGSTOP - 1)
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || (name != "SigPnd" && name != "ShdPnd") {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(val), 16, 64)
		if err == nil && mask&bit != 0 {
			return true
		}
	}
	return false
}
