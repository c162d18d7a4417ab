package native

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ptracer owns the one OS thread every ptrace request is issued from. Linux
// records the tracing *thread* as a tracee's tracer, so a ptrace call or a
// wait4 made from any other thread would fail with ESRCH or miss events.
type ptracer struct {
	reqs chan func() (quit bool)
	done chan struct{} // closed when the goroutine (and its OS thread) ended
	// tid is the locked OS thread's id. A request made from that thread
	// (inside Exclusive) runs directly: a hand-off between goroutines costs
	// a futex wake-up and an M start, tens of µs each on a VM, and a
	// breakpoint stop issues dozens of requests.
	tid atomic.Int32
	// quitAfter records that a request run directly asked to end the
	// goroutine; the loop ends once the enclosing request returns.
	quitAfter bool
}

func newPtracer() *ptracer {
	pt := &ptracer{reqs: make(chan func() bool), done: make(chan struct{})}
	go pt.loop()
	return pt
}

func (pt *ptracer) loop() {
	// The thread is never unlocked: when this goroutine returns the Go runtime
	// terminates the thread instead of reusing it, so no tracee state or
	// altered personality can leak into other goroutines.
	runtime.LockOSThread()
	pt.tid.Store(int32(unix.Gettid()))
	defer close(pt.done)
	for f := range pt.reqs {
		if f() || pt.quitAfter {
			return
		}
	}
}

// run executes f on the ptrace thread and waits for it. If f returns true the
// ptrace goroutine ends after it. It reports false when the goroutine had
// already ended, so f did not run. A panic in f is recovered there, so the
// thread keeps serving, and returned as err.
func (pt *ptracer) run(f func() (quit bool)) (ran bool, err error) {
	if pt.onThread() {
		quit, err := guard(f)
		if quit {
			pt.quitAfter = true
		}
		return true, err
	}
	finished := make(chan struct{})
	wrapped := func() bool {
		defer close(finished)
		var quit bool
		quit, err = guard(f)
		return quit
	}
	select {
	case pt.reqs <- wrapped:
	case <-pt.done:
		return false, nil
	}
	<-finished
	return true, err
}

// guard runs f, turning a panic into an error of one line: the ptrace
// thread must outlive a bug in the work handed to it, or every tracee is
// stranded with its breakpoints in place.
func guard(f func() bool) (quit bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrPanicked, r)
		}
	}()
	return f(), nil
}

// endAfterPanic ends the goroutine when perr says its first request, which
// would have made a tracee, panicked: there is no Process to serve.
func (pt *ptracer) endAfterPanic(perr error) error {
	if perr != nil {
		pt.run(func() bool { return true })
	}
	return perr
}

// onThread reports whether the caller runs on the ptrace thread. Only the
// locked goroutine can run there, so a match means we are inside a request.
func (pt *ptracer) onThread() bool {
	return int(pt.tid.Load()) == unix.Gettid()
}

// ptrace issues a raw ptrace request; x/sys lacks variants passing a signal
// to PTRACE_DETACH or a buffer to PTRACE_GETSIGINFO.
func ptrace(req int, tid int, addr, data uintptr) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// siginfo is the kernel's 128-byte siginfo_t, kept opaque so that it can be
// handed back verbatim when a signal is re-injected.
type siginfo [128]byte

// code returns si_code: positive values come from the kernel (faults, traps),
// zero or negative ones from kill, tgkill or sigqueue.
func (s *siginfo) code() int32 { return *(*int32)(unsafe.Pointer(&s[8])) }

// pid returns si_pid, the sender of a kill-like signal.
func (s *siginfo) pid() int32 { return *(*int32)(unsafe.Pointer(&s[16])) }

func getSiginfo(tid int) (siginfo, error) {
	var si siginfo
	err := ptrace(unix.PTRACE_GETSIGINFO, tid, 0, uintptr(unsafe.Pointer(&si)))
	runtime.KeepAlive(&si)
	return si, err
}

func setSiginfo(tid int, si *siginfo) error {
	err := ptrace(unix.PTRACE_SETSIGINFO, tid, 0, uintptr(unsafe.Pointer(si)))
	runtime.KeepAlive(si)
	return err
}

// waitAny waits for the next event of any tracee of this thread. __WNOTHREAD
// keeps the wait away from children other goroutines of the debugger started
// (os/exec would lose their exit status otherwise) and from tracees of other
// Process values, which belong to other ptrace threads.
func waitAny() (int, unix.WaitStatus, error) {
	for {
		var ws unix.WaitStatus
		tid, err := unix.Wait4(-1, &ws, unix.WALL|unix.WNOTHREAD, nil)
		if err == unix.EINTR {
			continue
		}
		return tid, ws, err
	}
}

// waitTid waits for the next event of one tracee.
func waitTid(tid int) (unix.WaitStatus, error) {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(tid, &ws, unix.WALL|unix.WNOTHREAD, nil)
		if err == unix.EINTR {
			continue
		}
		return ws, err
	}
}
