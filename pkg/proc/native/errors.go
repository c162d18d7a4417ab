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

// ErrThreadRunning is returned by thread operations that need the thread
// stopped, which is only the case between Continue calls.
var ErrThreadRunning = errors.New("thread is running")

// ThreadExitedError reports that the thread an operation was about ended
// while the rest of the process lives on.
type ThreadExitedError struct {
	Tid int
}

func (e *ThreadExitedError) Error() string { return fmt.Sprintf("thread %d exited", e.Tid) }
