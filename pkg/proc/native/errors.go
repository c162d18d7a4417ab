package native

import (
	"errors"
	"fmt"
)

// ErrProcessExited is returned by operations on a process that has exited or
// was killed; errors.Is also matches *ProcessExitedError.
var ErrProcessExited = errors.New("process has exited")

// ErrDetached is returned by operations on a process after Detach.
var ErrDetached = errors.New("process is detached")

// ErrNoSuchProcess is wrapped by Attach when the pid does not exist.
var ErrNoSuchProcess = errors.New("no such process")

// ErrAlreadyTraced is wrapped by Attach when another tracer holds the process.
var ErrAlreadyTraced = errors.New("already traced")

// ErrThreadRunning is returned by thread operations that need the thread
// stopped, which is only the case between Continue calls.
var ErrThreadRunning = errors.New("thread is running")

// ProcessExitedError reports that the whole process ended while an operation
// (such as StepInstruction) was in progress.
type ProcessExitedError struct {
	Pid      int
	ExitCode int // valid when Signal == 0
	Signal   int // nonzero when the process was killed by a signal
}

func (e *ProcessExitedError) Error() string {
	if e.Signal != 0 {
		return fmt.Sprintf("process %d was killed by signal %d", e.Pid, e.Signal)
	}
	return fmt.Sprintf("process %d exited with status %d", e.Pid, e.ExitCode)
}

// Is makes errors.Is(err, ErrProcessExited) true for a *ProcessExitedError.
func (e *ProcessExitedError) Is(target error) bool { return target == ErrProcessExited }

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
