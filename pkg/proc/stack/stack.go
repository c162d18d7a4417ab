// Package stack unwinds the call stack of a stopped amd64 Go thread or a
// parked goroutine. Caller frames are recovered with DWARF call frame
// information (.debug_frame written by the Go linker, .eh_frame for cgo C
// code); the RBP frame-pointer chain is used only where no FDE covers a PC.
// Inlined calls are expanded into logical frames so that the result reads
// like the source, not like the machine code.
package stack

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// DefaultMaxDepth bounds Unwind when the caller passes maxDepth <= 0.
const DefaultMaxDepth = 512

// ErrMaxDepth is wrapped by the error Unwind returns when the stack was cut at
// the requested depth rather than ending at its outermost frame.
var ErrMaxDepth = errors.New("stack deeper than the requested depth")

// ErrTruncated is wrapped by the error Unwind returns when a caller frame
// could not be recovered (corrupt memory, missing frame information); the
// frames found up to that point are still returned.
var ErrTruncated = errors.New("stack unwinding stopped early")

// MemoryReader reads the target's memory.
type MemoryReader interface {
	// ReadMemory fills buf from address addr and returns how many bytes it read.
	ReadMemory(buf []byte, addr uint64) (int, error)
}

// Func identifies the function containing a PC.
type Func struct {
	Name       string // fully qualified, e.g. "main.main" or "runtime.goexit"
	Entry, End uint64 // run-time address range [Entry, End)
}

// InlinedCall is one inlined call whose code contains a PC.
type InlinedCall struct {
	Func     string // name of the inlined (callee) function
	CallFile string // file of the call site, in the caller
	CallLine int    // line of the call site, in the caller
}

// Symbols is the part of the debug information the unwinder needs. All
// addresses are run-time addresses (load bias applied).
type Symbols interface {
	// FuncAt returns the function whose code contains pc.
	FuncAt(pc uint64) (Func, bool)
	// LineAt returns the source position of the instruction at pc.
	LineAt(pc uint64) (file string, line int, ok bool)
	// InlinedCallsAt lists the inlined calls active at pc, innermost first.
	InlinedCallsAt(pc uint64) []InlinedCall
}

// Frame is one logical stack frame. A physical frame whose PC lies in inlined
// code yields several Frames sharing PC, CFA and Regs: the inlined callees
// first (Inlined set), then the function that physically owns the code.
type Frame struct {
	// PC is the current instruction for the innermost frame and the return
	// address for callers; use LookupPC for symbol and line queries.
	PC   uint64
	CFA  uint64 // canonical frame address: the caller's SP before the call
	SP   uint64 // stack pointer in this frame
	BP   uint64 // frame pointer in this frame (0 if unknown)
	Func Func   // Func.Name is "" when no function covers the PC
	File string // source position: of the PC, or of the call site for a caller of an inlined call
	Line int
	// Inlined reports that Func was inlined into the next frame, which
	// physically owns the code at PC.
	Inlined bool
	// Top reports whether this is the innermost physical frame: its PC is
	// the next instruction to execute rather than a return address.
	Top bool
	// Regs are the registers known in this frame, with CFA and FrameBase
	// set; registers the unwinder could not recover are absent.
	Regs *op.DwarfRegisters

	lookup uint64
}

// LookupPC returns the address used to resolve the frame's function, line
// and CFI: PC itself for an interrupted instruction, PC-1 for a return
// address, so that a call ending its function is not attributed to the next.
func (f *Frame) LookupPC() uint64 { return f.lookup }

// String formats the frame as "func file:line", for logs and test output.
func (f *Frame) String() string {
	name := f.Func.Name
	if name == "" {
		name = fmt.Sprintf("?%#x", f.PC)
	}
	if f.Inlined {
		name += " (inlined)"
	}
	return fmt.Sprintf("%s %s:%d", name, f.File, f.Line)
}

// Sched is a saved goroutine context (runtime.g.sched): where the goroutine
// resumes. The unwinder jumps to it when it leaves the system stack.
type Sched struct {
	PC, SP, BP uint64
}

// Options tune one Unwind call.
type Options struct {
	// MaxDepth bounds the number of frames returned (inlined ones count);
	// <= 0 means DefaultMaxDepth.
	MaxDepth int
	// Curg, when non-nil, is the saved context of the goroutine a system
	// stack (g0) is working for. Unwinding through runtime.systemstack or
	// runtime.morestack continues on that goroutine's stack; without it the
	// stack ends there, since the g0 frames above are scheduler internals.
	Curg *Sched
	// StackLo and StackHi, when StackHi is non-zero, bound the stack being
	// unwound; a frame outside them ends the unwinding as corrupt.
	StackLo, StackHi uint64

	fromSched bool // set by UnwindSched: the starting PC is a return address
}

// outermost names functions that begin a stack: nothing above them is a
// caller (the runtime marks them TOPFRAME).
var outermost = map[string]bool{
	"runtime.goexit": true,
	"runtime.mstart": true,
	"runtime.rt0_go": true,
	// A new thread starts on its fresh stack inside runtime.clone; the
	// parent side returns from it within a few instructions.
	"runtime.clone": true,
}

// switchers names functions that move execution from a goroutine stack to
// the system stack (g0). Above them on g0 is nothing the CFI describes; the
// goroutine's own frames continue at its saved context (Options.Curg).
var switchers = map[string]bool{
	"runtime.systemstack": true,
	"runtime.morestack":   true,
	"runtime.mcall":       true,
	"runtime.asmcgocall":  true,
}

// signalEntry names the functions the kernel enters a signal handler
// through. runtime.sigtramp is unwound through the ucontext the kernel
// pushed (see sigcontextRegs); elsewhere the stack ends there.
var signalEntry = map[string]bool{
	"runtime.sigtramp":             true,
	"runtime.sigreturn__sigaction": true,
}

// canJump names the switchers after which the goroutine's saved context
// (g.sched) is where its own frames continue.
var canJump = map[string]bool{
	"runtime.systemstack": true,
	"runtime.morestack":   true,
	"runtime.mcall":       true,
}

// baseName strips the ABI wrapper suffix the linker adds to assembly
// function symbols, so "runtime.goexit.abi0" matches "runtime.goexit".
func baseName(name string) string {
	return strings.TrimSuffix(name, ".abi0")
}

// FromRegisters converts a thread's register file into the starting
// registers of an unwind.
func FromRegisters(regs *arch.Registers) *op.DwarfRegisters {
	return op.NewDwarfRegistersFrom(regs)
}

// FromRegistersFP is FromRegisters for a stopped thread whose XMM
// registers load can read: the innermost frame's float variables become
// readable, and load runs only if one of them is looked at. Outer frames
// never get XMM registers, which Go calls do not preserve.
func FromRegistersFP(regs *arch.Registers, load func() (arch.FPRegisters, error)) *op.DwarfRegisters {
	r := op.NewDwarfRegistersFrom(regs)
	if load != nil {
		r.SetFPLoader(func() (op.VectorRegisters, error) {
			fp, err := load()
			if err != nil {
				return nil, err
			}
			return &fp, nil
		})
	}
	return r
}

// FromSched builds the starting registers of a goroutine that is not
// running, from its saved context; prefer UnwindSched, which also knows
// that the saved PC is a return address.
func FromSched(s Sched) *op.DwarfRegisters {
	r := &op.DwarfRegisters{}
	r.AddReg(regnum.Rip, s.PC)
	r.AddReg(regnum.Rsp, s.SP)
	r.AddReg(regnum.Rbp, s.BP)
	return r
}
