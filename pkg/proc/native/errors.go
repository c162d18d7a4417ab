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

// ErrPanicked is wrapped by the error of a request that panicked on the
// ptrace thread; the thread recovers and keeps serving.
var ErrPanicked = errors.New("panic on the ptrace thread")

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
