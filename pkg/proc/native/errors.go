package native

import (
	"errors"
	"fmt"
)

// ErrDetached is returned by operations on a process after Detach.
var ErrDetached = errors.New("process is detached")

// ErrNoSuchProcess is wrapped by Attach when the pid does not exist.
var ErrNoSuchProcess = errors.New("no such process")

// ErrAlreadyTraced is wrapped by Attach when another tracer holds the process.
var ErrAlreadyTraced = errors.New("already traced")

// ErrPanicked is wrapped by the error of a request that panicked on the
// ptrace thread; the thread recovers and keeps serving.
var ErrPanicked = errors.New("panic on the ptrace thread")

// ErrThreadRunning is returned by thread operations that need the thread
// stopped, which is only the case between Continue calls.
var ErrThreadRunning = errors.New("thread is running")

// ThreadExitedError reports that the thread an operation was about ended
// while the rest of the process lives on.
type ThreadExitedError struct {
	Tid int
}

func (e *ThreadExitedError) Error() string { return fmt.Sprintf("thread %d exited", e.Tid) }

// ErrAttachSelf is wrapped by Attach when pid is the debugger itself.
var ErrAttachSelf = errors.New("cannot attach to the debugger itself")

// AlreadyTracedError is returned by Attach when another tracer (a debugger,
// strace) holds the process; errors.Is(err, ErrAlreadyTraced) holds.
type AlreadyTracedError struct {
	Pid    int
	Tracer int // the tracing process, not its thread
}

func (e *AlreadyTracedError) Error() string {
	return fmt.Sprintf("attach %d: %v by %d", e.Pid, ErrAlreadyTraced, e.Tracer)
}

// Is makes errors.Is(err, ErrAlreadyTraced) true for an *AlreadyTracedError.
func (e *AlreadyTracedError) Is(target error) bool { return target == ErrAlreadyTraced }
