package proc

import (
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// ErrProcessExited is wrapped by operations on a process that has exited.
var ErrProcessExited = errors.New("process has exited")

// StopReason says why the program is stopped.
type StopReason int

// Reasons reported in a Stop.
const (
	StopBreakpoint StopReason = iota // a user breakpoint was hit
	StopStepDone                     // next/step/stepout/step-instruction finished
	StopHalted                       // Halt interrupted the program
	StopTrap                         // an int3 the debugger did not set (runtime.Breakpoint)
	StopExited                       // the process exited; ExitCode is set
	StopKilled                       // the process died from a signal; Signal is set
	StopWatchScope                   // watched stack variables went out of scope (WatchOutOfScope)
)

// String names the reason like Delve's stop messages.
func (r StopReason) String() string {
	if r == StopCallReturned {
		return "call returned"
	}
	return [...]string{"breakpoint", "step", "halted", "trap", "exited", "killed", "watchscope", "call returned"}[r]
}

// Stop describes where and why the program stopped.
type Stop struct {
	Reason      StopReason
	Breakpoint  *Breakpoint // the user breakpoint, for StopBreakpoint
	ThreadID    int
	GoroutineID int64
	PC          uint64
	File        string
	Line        int
	Function    string
	ExitCode    int
	Signal      int
	// StepDone, for StopBreakpoint, says that the stepping goroutine's
	// step also ended at this breakpoint.
	StepDone bool
	// Return, for StopStepDone, is the frame the step left by returning.
	Return *Return
	// Watch, when Breakpoint is a watchpoint, is its value before and after.
	Watch *WatchChange
	// WatchOutOfScope are the watchpoints this stop cleared because their
	// variable's frame returned.
	WatchOutOfScope []*Breakpoint
	// Call, for StopCallReturned, is how the injected call ended.
	Call *CallDone
}

// String renders the stop as one line, e.g. "main.add at basic/main.go:14".
func (s Stop) String() string {
	switch s.Reason {
	case StopExited:
		return fmt.Sprintf("process exited with status %d", s.ExitCode)
	case StopKilled:
		return fmt.Sprintf("process killed by signal %d", s.Signal)
	}
	return fmt.Sprintf("%s: %s() %s:%d (PC %#x) thread %d goroutine %d",
		s.Reason, s.Function, s.File, s.Line, s.PC, s.ThreadID, s.GoroutineID)
}

// Target is one debugged process with its breakpoints and stepping state.
// Its methods must be called from one goroutine at a time, except Halt.
type Target struct {
	proc Process
	sym  Symbols
	rt   Runtime
	bias uint64 // load bias: run-time minus link-time addresses

	// Eval evaluates breakpoint condition expressions (CondExpr).
	Eval Evaluator

	bps      breakpointTable
	user     map[int]*Breakpoint
	userAt   map[uint64]*Breakpoint
	nextBPID int
	steps    []*stepBreakpoint // internal breakpoints of the stepping operation in progress

	selThread int                 // selected thread id
	selG      int64               // selected goroutine id; 0 if none
	threadBP  map[int]*Breakpoint // user breakpoint each thread stopped on
	rewound   map[int]uint64      // threads rewound onto a breakpoint: tid → address

	watchSlots  [numWatchSlots]*Breakpoint // the watchpoint in each debug-register slot
	sentinels   []sentinel                 // internal breakpoints of stack watchpoints
	watchBits   map[int]uint8              // slots that trapped on a thread, not yet handled
	watchChange map[int]*WatchChange       // value change each thread stopped on
	lastStop    Stop

	fncall  *fnCall // the injected function call in progress (fncall.go)
	callErr error   // how the last finished call ended, for its stop

	exited   bool
	exitCode int
	closeFn  func() error        // releases the symbols, set by the constructor that opened them
	bi       *bininfo.BinaryInfo // the binary, when the target was launched or attached here

	// launched records how the process was started, so that a Restart can
	// start it again; nil for attached processes.
	launched *launchSpec
}

// launchSpec is what Launch was called with.
type launchSpec struct {
	backend Backend
	path    string
	args    []string
	cfg     LaunchConfig
}

// NewTarget wraps a stopped process. The load bias is computed from AT_ENTRY
// and the binary's ELF entry, so position-independent binaries map correctly.
func NewTarget(p Process, sym Symbols, rt Runtime) (*Target, error) {
	t := &Target{
		proc: p, sym: sym, rt: rt,
		bps:         breakpointTable{phys: map[uint64]*physBreakpoint{}, kern: map[uint64]*kernelAddr{}},
		user:        map[int]*Breakpoint{},
		userAt:      map[uint64]*Breakpoint{},
		nextBPID:    1,
		threadBP:    map[int]*Breakpoint{},
		rewound:     map[int]uint64{},
		watchBits:   map[int]uint8{},
		watchChange: map[int]*WatchChange{},
	}
	entry, err := p.AuxvEntry()
	if err != nil {
		return nil, fmt.Errorf("reading AT_ENTRY: %w", err)
	}
	if elfEntry := sym.EntryPoint(); entry != elfEntry {
		t.bias = entry - elfEntry
		sym.SetLoadBias(t.bias)
	}
	if ths := p.Threads(); len(ths) > 0 {
		t.selThread = ths[0].ID()
		if g, err := rt.CurrentGoroutine(ths[0]); err == nil {
			t.selG = g.ID
		}
	}
	return t, nil
}

// Pid returns the process id.
func (t *Target) Pid() int { return t.proc.Pid() }

// Symbols returns the binary's symbols, at run-time addresses.
func (t *Target) Symbols() Symbols { return t.sym }

// Process returns the backend process, for memory and register access.
func (t *Target) Process() Process { return t.proc }

// Exited reports whether the process has exited, and its exit code.
func (t *Target) Exited() (bool, int) { return t.exited, t.exitCode }

// exitReaper is what a backend offers to learn, without resuming, that
// a stopped process died (killed from outside); consumer-owned, optional.
type exitReaper interface {
	ReapIfGone() (StopEvent, bool)
}

// NoticeExit records the end of a process that died while stopped, so
// that it is reported as an exit (with -signal as its status, as Delve
// says) instead of as reads failing with "no such process". It reports
// whether the process has exited.
func (t *Target) NoticeExit() bool {
	if t.exited {
		return true
	}
	r, ok := t.proc.(exitReaper)
	if !ok {
		return false
	}
	ev, gone := r.ReapIfGone()
	if gone {
		t.markExited(ev)
	}
	return gone
}

// LastStop returns the most recent stop.
func (t *Target) LastStop() Stop { return t.lastStop }

func (t *Target) checkAlive() error {
	if t.exited {
		return fmt.Errorf("pid %d: %w", t.proc.Pid(), ErrProcessExited)
	}
	return nil
}

// Halt stops a running Continue or stepping operation; safe to call from
// any goroutine. The interrupted call returns a Stop with reason StopHalted.
func (t *Target) Halt() {
	t.proc.RequestHalt()
}

// Detach removes every breakpoint byte, then lets the process run on
// without the debugger.
func (t *Target) Detach() error {
	if t.exited {
		return t.close()
	}
	t.steps = nil
	if err := t.closeKernel(); err != nil {
		return fmt.Errorf("detach: %w", err)
	}
	if err := t.bps.removeAll(t.proc); err != nil {
		return fmt.Errorf("detach: %w", err)
	}
	if err := t.proc.Detach(); err != nil {
		return fmt.Errorf("detach: %w", err)
	}
	t.exited = true
	return t.close()
}

// Kill terminates the process.
func (t *Target) Kill() error {
	if t.exited {
		return t.close()
	}
	err := errors.Join(t.closeKernel(), t.proc.Kill())
	t.exited = true
	if cerr := t.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("kill: %w", err)
	}
	return nil
}

func (t *Target) close() error {
	if t.closeFn == nil {
		return nil
	}
	f := t.closeFn
	t.closeFn = nil
	return f()
}

// ThreadInfo describes one thread at a stop.
type ThreadInfo struct {
	ID          int
	Regs        arch.Registers
	GoroutineID int64
	File        string
	Line        int
	Function    string
	Breakpoint  *Breakpoint // user breakpoint the thread is sitting on after a hit
	// LoadFP reads the thread's XMM registers; nil when the backend cannot.
	// It is a function rather than values so that a stop only pays for the
	// FXSAVE read when a float variable in a register is looked at.
	LoadFP func() (arch.FPRegisters, error)
}

// Threads lists every thread with its registers and position.
func (t *Target) Threads() ([]ThreadInfo, error) {
	if err := t.checkAlive(); err != nil {
		return nil, err
	}
	var out []ThreadInfo
	for _, th := range t.proc.Threads() {
		regs, err := th.Registers()
		if err != nil {
			return nil, fmt.Errorf("thread %d: %w", th.ID(), err)
		}
		ti := ThreadInfo{ID: th.ID(), Regs: regs, Breakpoint: t.threadBP[th.ID()]}
		if fp, ok := th.(FPThread); ok {
			ti.LoadFP = fp.FPRegisters
		}
		if g, err := t.rt.CurrentGoroutine(th); err == nil {
			ti.GoroutineID = g.ID
		}
		ti.File, ti.Line, ti.Function, _ = t.sym.PCToLine(regs.PC())
		out = append(out, ti)
	}
	return out, nil
}

// SelectedThread returns the id of the selected thread.
func (t *Target) SelectedThread() int { return t.selThread }

// SelectedGoroutine returns the id of the selected goroutine (0: none).
func (t *Target) SelectedGoroutine() int64 { return t.selG }

// SwitchThread selects a thread and the goroutine it runs.
func (t *Target) SwitchThread(tid int) error {
	if err := t.checkAlive(); err != nil {
		return err
	}
	th := t.thread(tid)
	if th == nil {
		return fmt.Errorf("no thread %d", tid)
	}
	t.selThread = tid
	t.selG = 0
	if g, err := t.rt.CurrentGoroutine(th); err == nil {
		t.selG = g.ID
	}
	return nil
}

// SwitchGoroutine selects a goroutine that is running on a thread, and that thread.
func (t *Target) SwitchGoroutine(goid int64) error {
	if err := t.checkAlive(); err != nil {
		return err
	}
	th, err := t.threadOf(goid)
	if err != nil {
		return err
	}
	t.selThread, t.selG = th.ID(), goid
	return nil
}

// SelectGoroutine selects goroutine goid whether it runs on a thread or is
// parked. For a parked one the selected thread stays; Next, Step and
// StepOut then resume the program until that goroutine, once scheduled
// again, reaches the next line of its innermost user frame.
func (t *Target) SelectGoroutine(goid int64) error {
	if err := t.SwitchGoroutine(goid); err == nil {
		return nil
	}
	if _, _, err := t.rt.ParkedFrames(goid, 1); err != nil {
		return err
	}
	t.selG = goid
	return nil
}

func (t *Target) thread(tid int) Thread {
	for _, th := range t.proc.Threads() {
		if th.ID() == tid {
			return th
		}
	}
	return nil
}

// threadOf finds the thread currently running goroutine goid.
func (t *Target) threadOf(goid int64) (Thread, error) {
	for _, th := range t.proc.Threads() {
		if g, err := t.rt.CurrentGoroutine(th); err == nil && g.ID == goid {
			return th, nil
		}
	}
	return nil, fmt.Errorf("goroutine %d is not running on any thread", goid)
}

// stepThread returns the thread running the selected goroutine (or the
// selected thread when no goroutine is selected): stepping is bound to the
// goroutine, so a parked one is an error rather than a silent switch.
func (t *Target) stepThread() (Thread, error) {
	if t.selG != 0 {
		return t.threadOf(t.selG)
	}
	return t.selectedThread()
}

// selectedThread returns the thread running the selected goroutine, else
// the selected thread, else the first one.
func (t *Target) selectedThread() (Thread, error) {
	if t.selG != 0 {
		if th, err := t.threadOf(t.selG); err == nil {
			return th, nil
		}
	}
	if th := t.thread(t.selThread); th != nil {
		return th, nil
	}
	ths := t.proc.Threads()
	if len(ths) == 0 {
		return nil, errors.New("process has no threads")
	}
	return ths[0], nil
}

// BinInfo returns the binary of a launched or attached target, with the load
// bias applied, so callers share one symbol index instead of opening another.
// It is nil for targets built with NewTarget over other symbols.
func (t *Target) BinInfo() *bininfo.BinaryInfo { return t.bi }

// exclusive runs a resume-and-stop operation under Process.Exclusive. When
// the process is already gone Exclusive cannot run it, so it runs directly
// and reports the exit the way it always does.
func (t *Target) exclusive(op func() (Stop, error)) (st Stop, err error) {
	ran := false
	// Hit counts of kernel conditions are read back at every stop.
	xerr := t.proc.Exclusive(func() { ran = true; st, err = op(); t.syncAllKernelCounts() })
	if !ran {
		st, err = op()
		t.syncAllKernelCounts()
		return st, err
	}
	return st, errors.Join(err, xerr) // xerr: op panicked on the backend's thread
}
