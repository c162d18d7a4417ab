// Package native controls a Linux process with ptrace. Every ptrace call runs
// on one locked OS thread, because the kernel ties a tracee to the thread that
// attached to it. The package knows threads, memory, registers and signals;
// breakpoints, stepping policy and goroutines belong to pkg/proc, which
// receives this backend as a proc.Backend (Backend) from its caller.
package native

import (
	"os"

	"github.com/tinydbg/tinydbg/pkg/proc"
)

// LaunchConfig describes a program to start under the debugger.
type LaunchConfig struct {
	Path string   // executable
	Args []string // argv[1:]
	Dir  string   // working directory; empty: the debugger's
	Env  []string // environment; nil: the debugger's
	// Stdin, Stdout, Stderr are given to the program; nil means the debugger's own.
	Stdin, Stdout, Stderr *os.File
	// DisableASLR starts the program with personality(ADDR_NO_RANDOMIZE), so
	// PIE load addresses, stacks and mmaps are the same on every run.
	DisableASLR bool
}

// StopEvent reports the state after Continue returns. Every live thread is
// stopped when it is returned.
type StopEvent struct {
	Kind     proc.StopKind
	Trapped  []*Thread // threads that stopped with SIGTRAP (kind proc.StopKindTrap)
	ExitCode int
	Signal   int
	// HaltRequested, on a trap, says RequestHalt came during the run: the
	// caller may resume past the traps, but not past the halt.
	HaltRequested bool
}
