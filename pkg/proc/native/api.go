// Package native controls a Linux process with ptrace. Every ptrace call runs
// on one locked OS thread, because the kernel ties a tracee to the thread that
// attached to it. The package knows threads, memory, registers and signals;
// breakpoints, stepping policy and goroutines belong to pkg/proc, which
// receives this backend as a proc.Backend (Backend) from its caller.
package native

import "os"

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

// StopKind says why Continue returned.
type StopKind int

const (
	StopTrap   StopKind = iota // one or more threads stopped with SIGTRAP (breakpoint or step)
	StopHalt                   // RequestHalt interrupted the program
	StopExited                 // the process exited; ExitCode is set
	StopKilled                 // the process died from a signal; Signal is set
)

// String names the stop kind for messages and test failures.
func (k StopKind) String() string {
	switch k {
	case StopTrap:
		return "trap"
	case StopHalt:
		return "halt"
	case StopExited:
		return "exited"
	case StopKilled:
		return "killed"
	}
	return "StopKind(?)"
}

// StopEvent reports the state after Continue returns. Every live thread is
// stopped when it is returned.
type StopEvent struct {
	Kind     StopKind
	Trapped  []*Thread // threads that stopped with SIGTRAP (kind StopTrap)
	ExitCode int
	Signal   int
}
