// Package proc is the backend-neutral debugger core: a Target owns one
// process, its breakpoints and the stepping policy (continue, next, step,
// stepout), bound to the selected goroutine. It reaches the process, the
// binary's symbols and the Go runtime only through the small interfaces in
// this file, so that ptrace, core files or another backend can be plugged in.
package proc

import (
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// Process is what the core needs from a backend that controls a live process.
type Process interface {
	// Pid returns the operating-system process id.
	Pid() int
	// ReadMemory fills buf from addr.
	ReadMemory(buf []byte, addr uint64) (int, error)
	// WriteMemory writes data at addr, even into read-only text.
	WriteMemory(addr uint64, data []byte) (int, error)
	// Threads returns every live thread, sorted by id.
	Threads() []Thread
	// Continue resumes every thread and returns once all are stopped again.
	Continue() (StopEvent, error)
	// RequestHalt makes a running Continue return; safe from any goroutine.
	RequestHalt()
	// Detach leaves the process running without the debugger.
	Detach() error
	// Kill terminates the process.
	Kill() error
	// AuxvEntry returns AT_ENTRY from the auxiliary vector.
	AuxvEntry() (uint64, error)
	// Exclusive runs f with the backend's undivided attention: for ptrace,
	// on its own thread, so the many requests of one stop are not each
	// handed over separately. It fails without running f once the process
	// is gone.
	Exclusive(f func()) error
}

// Thread is one stopped thread of a Process.
type Thread interface {
	// ID returns the thread id (tid).
	ID() int
	// Registers reads the general-purpose registers.
	Registers() (arch.Registers, error)
	// SetPC moves the instruction pointer.
	SetPC(pc uint64) error
	// StepInstruction executes exactly one instruction on this thread only.
	StepInstruction() error
}

// FPThread is a Thread whose backend can also read the SSE registers,
// where the Go register ABI passes float arguments and results.
type FPThread interface {
	Thread
	// FPRegisters reads XMM0–XMM15 and MXCSR.
	FPRegisters() (arch.FPRegisters, error)
}

// StopKind says why a backend's Continue returned. Backends report their
// stops in these terms, so the core converts none.
type StopKind int

// Backend stop kinds.
const (
	StopKindTrap   StopKind = iota // threads stopped with SIGTRAP
	StopKindHalt                   // RequestHalt interrupted the program
	StopKindExited                 // the process exited normally
	StopKindKilled                 // the process died from a signal
)

// String names the stop kind for messages and test failures.
func (k StopKind) String() string {
	switch k {
	case StopKindTrap:
		return "trap"
	case StopKindHalt:
		return "halt"
	case StopKindExited:
		return "exited"
	case StopKindKilled:
		return "killed"
	}
	return "StopKind(?)"
}

// StopEvent is the backend's account of one stop.
type StopEvent struct {
	Kind     StopKind
	Trapped  []Thread // threads that received SIGTRAP
	ExitCode int
	Signal   int
	// HaltRequested, on a StopKindTrap, says a halt was requested during
	// the run: when the traps are the core's own business (the call
	// protocol, a step over), the halt is the stop, not lost.
	HaltRequested bool
}

// Func is a function of the binary at run-time addresses [Entry, End).
type Func struct {
	Name       string
	Entry, End uint64
}

// LinePC is one statement boundary of the line table.
type LinePC struct {
	PC   uint64
	File string
	Line int
}

// Symbols is the view of the binary's debug information the core needs.
// Every address it takes or returns is a run-time address (load bias applied).
type Symbols interface {
	// SetLoadBias records the difference between run-time and link-time addresses.
	SetLoadBias(bias uint64)
	// EntryPoint returns the link-time ELF entry address.
	EntryPoint() uint64
	// LookupFunc finds a function by name; the error names close matches.
	LookupFunc(name string) (Func, error)
	// PCToFunc returns the (outermost, not inlined) function containing pc.
	PCToFunc(pc uint64) (Func, bool)
	// PCToLine returns the source position of pc and the name of the
	// innermost (possibly inlined) function there.
	PCToLine(pc uint64) (file string, line int, fn string, ok bool)
	// LineToPCs returns every statement address of file:line (inlined copies
	// included); file may be a suffix such as "basic/main.go". The error
	// names close matches when the file or line has no code.
	LineToPCs(file string, line int) ([]uint64, error)
	// FirstPCAfterPrologue returns where a breakpoint on fn or a step into it stops (Delve's prologue-end rule).
	FirstPCAfterPrologue(fn Func) (uint64, error)
	// StmtPCs returns the statement boundaries inside fn, ascending by PC.
	StmtPCs(fn Func) ([]LinePC, error)
	// Funcs returns every function whose name starts with prefix.
	Funcs(prefix string) []Func
	// InlinedCallsAt returns the inlined calls whose bodies contain pc,
	// innermost first; nil outside inlined code.
	InlinedCallsAt(pc uint64) []InlinedCall
	// FuncEntryStmts returns where a breakpoint on the named function goes:
	// after the prologue of its out-of-line copy, if any, and on the first
	// statement of each inlined copy; ascending.
	FuncEntryStmts(name string) ([]uint64, error)
}

// InlinedCall is one level of inlining active at a PC: Func's body was
// inlined at CallFile:CallLine into the next element (or the physical
// function for the last one).
type InlinedCall struct {
	Func     string
	CallFile string
	CallLine int
	Ranges   [][2]uint64 // run-time [lo, hi) ranges of the inlined body
	ID       uint64      // identifies this inlined copy among all others
}

// Frame is one frame of a goroutine's stack; frames[i+1].PC is the return
// address of frames[i].
type Frame struct {
	PC  uint64
	CFA uint64 // canonical frame address: the caller's SP before the call
	Fn  string // function name, empty without symbols
}

// Goroutine identifies the goroutine a thread is running.
type Goroutine struct {
	ID      int64  // 0: the thread runs no goroutine (e.g. g0 or a C thread)
	StackHi uint64 // top of the goroutine stack; 0 when unknown
}

// Runtime reads Go runtime state: goroutines and stacks.
type Runtime interface {
	// CurrentGoroutine returns the goroutine running on th.
	CurrentGoroutine(th Thread) (Goroutine, error)
	// Unwind returns up to depth frames of th, starting from regs.
	Unwind(th Thread, regs arch.Registers, depth int) ([]Frame, error)
	// ParkedFrames returns goroutine goid, which runs on no thread, and up
	// to depth of its physical frames from where it will resume.
	ParkedFrames(goid int64, depth int) (Goroutine, []Frame, error)
}

// ProcessExitedError is returned by a backend operation on one thread (a
// single step) during which the whole process ended. The core turns it
// into a StopExited or StopKilled stop.
type ProcessExitedError struct {
	Pid      int
	ExitCode int // valid when Signal == 0
	Signal   int // nonzero when a signal killed the process
}

func (e *ProcessExitedError) Error() string {
	if e.Signal != 0 {
		return fmt.Sprintf("process %d was killed by signal %d", e.Pid, e.Signal)
	}
	return fmt.Sprintf("process %d exited with status %d", e.Pid, e.ExitCode)
}

// Is makes errors.Is(err, ErrProcessExited) hold.
func (e *ProcessExitedError) Is(target error) bool { return target == ErrProcessExited }

// ErrThreadExited is wrapped by backend operations on a thread that ended
// while the rest of the process lives on; the core forgets that thread.
var ErrThreadExited = errors.New("thread exited")
