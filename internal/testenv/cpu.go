package testenv

import "syscall"

// ThreadCPU is the calling thread's user and system time in nanoseconds,
// for benchmarks on a machine shared with others, where wall time per
// operation says little. The caller locks its goroutine to the thread
// (runtime.LockOSThread) around what it measures.
func ThreadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
