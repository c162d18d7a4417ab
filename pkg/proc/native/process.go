package native

import (
	"fmt"
	"os"
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/tinydbg/tinydbg/pkg/proc"
)

// Process is a traced process. Its methods are safe for concurrent use; all
// but ReadMemory and RequestHalt are serialized on the ptrace thread, so a
// call made while Continue runs waits until Continue returns.
type Process struct {
	pid      int
	launched bool
	pt       *ptracer
	mem      *os.File // /proc/PID/mem; used on the ptrace thread only

	// mu guards the fields below. The ptrace thread takes it for every change
	// to the thread set so that RequestHalt (any goroutine) sees a
	// consistent list and expectedStops never double-counts a SIGSTOP.
	mu      sync.Mutex
	threads map[int]*Thread
	// reaped holds threads whose exit was already collected. A parent's
	// clone event can be reported after its child ran, exited and was
	// reaped; without this the child would be added back as a thread that
	// never stops, and stopping all threads would wait for it forever.
	reaped   map[int]bool
	exited   bool
	detached bool
	running  bool // a Continue is resuming or waiting
	halt     bool // RequestHalt was called and Continue has not yet honoured it

	lastProbeRun probeCounts // how the last RunProbes passed its hits over; ptrace thread only

	// watch is the debug-register setting every thread gets, and watchGen
	// counts its changes; ptrace thread only.
	watch    [NumWatchSlots]watchSlot
	watchGen uint64

	fol follow // follow-exec (follow.go); ptrace thread only

	kern kernelConds // breakpoints whose condition the kernel evaluates
}

// Thread is one thread (task) of a traced process.
type Thread struct {
	p   *Process
	tid int

	// Owned by the ptrace thread.
	stopped      bool            // in a ptrace-stop we have observed
	inSignalStop bool            // that stop is a signal-delivery-stop, so a signal can be injected
	pending      []pendingSignal // program signals held back, delivered on the next Continue

	// expectedStops counts SIGSTOPs the debugger sent and has not yet seen
	// reported; they are swallowed so the program never receives them.
	// Guarded by p.mu.
	expectedStops int

	watchGen  uint64 // the Process.watchGen this thread's debug registers hold; ptrace thread only
	watchHits uint8  // slots that trapped and were not yet taken; guarded by p.mu

	khit     *kernelHit // stopped by a kernel condition; ptrace thread only
	kadvance uint64     // the breakpoint this thread must be stepped to (advanceKernelHits)
}

// pendingSignal is a program signal the debugger intercepted and owes back.
type pendingSignal struct {
	sig  int
	info siginfo
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.pid }

// ID returns the thread id (tid).
func (t *Thread) ID() int { return t.tid }

// Threads returns the live threads, sorted by tid.
func (p *Process) Threads() []*Thread {
	p.mu.Lock()
	defer p.mu.Unlock()
	ts := make([]*Thread, 0, len(p.threads))
	for _, t := range p.threads {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].tid < ts[j].tid })
	return ts
}

// Thread returns the thread with the given tid, if it is alive.
func (p *Process) Thread(tid int) (*Thread, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.threads[tid]
	return t, ok
}

// Exited reports whether the process has exited or was killed.
func (p *Process) Exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// goneErr is the error for calls made after the process stopped being ours.
func (p *Process) goneErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.detached {
		return ErrDetached
	}
	return proc.ErrProcessExited
}

// do runs f on the ptrace thread, or returns why it cannot.
func (p *Process) do(f func() error) error {
	var err error
	ran, perr := p.pt.run(func() bool { err = f(); return p.finished() })
	if !ran {
		return p.goneErr()
	}
	if perr != nil {
		return perr
	}
	return err
}

// finished reports whether the ptrace thread has no tracee left.
func (p *Process) finished() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited || p.detached
}

// RequestHalt makes a running Continue stop every thread and return
// proc.StopKindHalt. Called while no Continue runs, it makes the next
// Continue return proc.StopKindHalt at once. It may be called from any
// goroutine.
func (p *Process) RequestHalt() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited || p.detached {
		return
	}
	p.halt = true
	if !p.running {
		return
	}
	// Signal every thread, not just one: a single target could exit before
	// taking the signal and the halt would be lost.
	for _, t := range p.threads {
		if t.expectedStops == 0 && unix.Tgkill(p.pid, t.tid, unix.SIGSTOP) == nil {
			t.expectedStops++
		}
	}
}

// Detach releases every thread and leaves the process running. Signals the
// debugger intercepted and still owes the program are passed on.
func (p *Process) Detach() error {
	return p.do(func() error {
		for _, t := range p.Threads() {
			p.settleKernelHit(t) // the kernel already ran its instruction
		}
		p.kern.closeProbes()
		p.drainExpectedStops()
		var firstErr error
		threads := p.Threads()
		// The leader goes last: if an owed signal makes the program exit
		// while we detach, the kernel reports the leader only after every
		// other thread has been reaped.
		sort.SliceStable(threads, func(i, j int) bool { return threads[j].tid == p.pid })
		for _, t := range threads {
			if err := p.detachThread(t); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		p.mem.Close()
		p.mu.Lock()
		p.detached = true
		p.threads = map[int]*Thread{}
		p.mu.Unlock()
		return firstErr
	})
}

// detachThread detaches one stopped thread, handing it its owed signals.
func (p *Process) detachThread(t *Thread) error {
	sig, extra := t.takePending()
	p.disarmWatch(t)
	for {
		err := ptrace(unix.PTRACE_DETACH, t.tid, 0, uintptr(sig))
		if err == nil {
			break
		}
		if err != unix.ESRCH {
			return fmt.Errorf("detaching thread %d: %w", t.tid, err)
		}
		// ESRCH: the thread left its stop because the process is exiting
		// (a signal passed on to an earlier thread killed it). It stays a
		// traced zombie until its tracer reaps it, and the tracer thread
		// may outlive this Process (Go wedges a locked main thread instead
		// of ending it), so reap it here.
		ws, werr := waitTid(t.tid)
		if werr != nil {
			return nil
		}
		if ws.Exited() || ws.Signaled() {
			if t.tid == p.pid {
				p.markExited()
			}
			return nil
		}
	}
	for _, s := range extra {
		_ = unix.Tgkill(p.pid, t.tid, unix.Signal(s.sig))
	}
	return nil
}

// Kill kills the process with SIGKILL and reaps it. Killing a process that
// has already exited is not an error.
func (p *Process) Kill() error {
	p.mu.Lock()
	if p.exited {
		p.mu.Unlock()
		return nil
	}
	if p.detached {
		p.mu.Unlock()
		return ErrDetached
	}
	// Sent from the caller's goroutine so that it also ends a Continue that
	// is blocked waiting for the program.
	err := unix.Kill(p.pid, unix.SIGKILL)
	p.mu.Unlock()
	if err != nil && err != unix.ESRCH {
		return fmt.Errorf("kill %d: %w", p.pid, err)
	}
	err = p.do(func() error {
		for !p.Exited() {
			tid, ws, err := waitAny()
			if err != nil {
				return fmt.Errorf("reaping %d: %w", p.pid, err)
			}
			p.handle(tid, ws)
		}
		return nil
	})
	p.kern.closeProbes()
	if err == proc.ErrProcessExited {
		return nil
	}
	return err
}

// takePending removes the owed signals of a stopped thread and returns the
// one to inject into its current stop (0 if none or if the stop cannot carry
// a signal) and the ones that must be re-raised with tgkill.
func (t *Thread) takePending() (int, []pendingSignal) {
	if len(t.pending) == 0 {
		return 0, nil
	}
	all := t.pending
	t.pending = nil
	if !t.inSignalStop {
		return 0, all
	}
	// Restore the original siginfo: on a signal change the kernel would
	// otherwise fabricate an SI_USER one, and the Go runtime treats a
	// user-sent SIGSEGV differently from a real fault.
	if setSiginfo(t.tid, &all[0].info) != nil {
		return 0, all
	}
	return all[0].sig, all[1:]
}

// Exclusive runs f on the ptrace thread. Every call f makes into this
// package then runs directly instead of being handed to that thread one
// request at a time, which is what makes a breakpoint stop cheap.
// f must not wait for another goroutine that itself needs the ptrace thread.
func (p *Process) Exclusive(f func()) error {
	return p.do(func() error { f(); return nil })
}
