package goroutine

import (
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
)

// Location is a code address with its source position.
type Location struct {
	PC   uint64
	File string
	Line int
	Func string // "" when no function covers PC
}

// String formats the location as "file:line function".
func (l Location) String() string {
	fn := l.Func
	if fn == "" {
		fn = fmt.Sprintf("?%#x", l.PC)
	}
	return fmt.Sprintf("%s:%d %s", l.File, l.Line, fn)
}

// locate resolves pc, looking up lookup (pc or pc-1 for return addresses).
func locate(bi *bininfo.BinaryInfo, pc, lookup uint64) Location {
	file, line, fn := bi.PCToLine(lookup)
	l := Location{PC: pc, File: file, Line: line}
	if fn != nil {
		l.Func = fn.Name
	}
	return l
}

// CurrentLoc returns where g is: the thread's PC when it runs (regs are the
// registers of its thread, nil if it is not running), else its saved resume
// PC, positioned at the call into the scheduler as the runtime prints it.
func CurrentLoc(bi *bininfo.BinaryInfo, g *G, regs *arch.Registers) Location {
	if regs != nil {
		return locate(bi, regs.Rip, regs.Rip)
	}
	return locate(bi, g.Sched.PC, prevPC(bi, g.Sched.PC))
}

// GoLoc returns the go statement that created g. GoPC is the return
// address of the call to runtime.newproc, so the statement is the
// instruction before it.
func GoLoc(bi *bininfo.BinaryInfo, g *G) Location {
	return locate(bi, g.GoPC, prevPC(bi, g.GoPC))
}

// StartLoc returns the function g started in, at its entry. A goroutine
// started by `go worker(x)` runs a compiler-made wrapper first
// (main.main.gowrap1); as in Delve, its start is the function the wrapper
// calls.
func StartLoc(bi *bininfo.BinaryInfo, g *G) Location {
	if fn := bi.PCToFunc(g.StartPC); fn != nil {
		if w := bi.Unwrap(fn); w != fn {
			return locate(bi, w.Entry, w.Entry)
		}
	}
	return locate(bi, g.StartPC, g.StartPC)
}

// prevPC steps back into the call instruction a return address follows,
// unless that would leave the function (pc at its entry).
func prevPC(bi *bininfo.BinaryInfo, pc uint64) uint64 {
	if fn := bi.PCToFunc(pc); fn != nil && pc > fn.Entry {
		return pc - 1
	}
	return pc
}

// UserDepth is how many physical frames UserFrame looks at, as Delve does
// (deeper user frames are not looked for: the goroutine's own location
// stands instead).
const UserDepth = 30

// UserFrame returns the innermost frame, among the first UserDepth
// physical ones, that is user code by Delve's rule (see IsUserFunc), so
// that a goroutine's "User" location is the one Delve's clients show.
func UserFrame(frames []stack.Frame) (stack.Frame, bool) {
	physical := 0
	for _, f := range frames {
		if physical >= UserDepth {
			break
		}
		if !f.Inlined {
			physical++
		}
		if IsUserFunc(f.Func.Name) {
			return f, true
		}
	}
	return stack.Frame{}, false
}

// IsUserFunc is Delve's test of a goroutine's user frame on a function
// name: qualified by a package, and neither the runtime's unexported
// functions nor internal packages nor package iter (a coroutine's
// plumbing). Exported runtime functions (runtime.Gosched, runtime.GC)
// and runtime code linknamed into other packages (time.Sleep,
// sync.runtime_Semacquire) count as user code, since that is where the
// user's call went.
func IsUserFunc(name string) bool {
	if !strings.Contains(name, ".") {
		return false
	}
	if rest, ok := strings.CutPrefix(name, "runtime."); ok {
		return rest != "" && 'A' <= rest[0] && rest[0] <= 'Z'
	}
	for _, p := range []string{"internal/", "runtime/internal", "iter."} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	return true
}

// FrameLoc returns the source location of a frame.
func FrameLoc(f stack.Frame) Location {
	return Location{PC: f.PC, File: f.File, Line: f.Line, Func: f.Func.Name}
}

// Stacktrace unwinds g's stack. regs are the registers of the thread
// running g (nil if it is parked): a running goroutine is unwound from the
// thread, following the switch back from the system stack when the thread
// is on it; a parked one from its saved context, bounded by its stack.
func Stacktrace(u *stack.Unwinder, mem MemoryReader, g *G, regs *arch.Registers, maxDepth int) ([]stack.Frame, error) {
	return StacktraceFP(u, mem, g, regs, nil, maxDepth)
}

// StacktraceFP is Stacktrace for a running goroutine whose thread's XMM
// registers loadFP reads (nil: unavailable): float variables held in
// registers become readable in the innermost frame. loadFP runs only if
// such a variable is looked at, so plain stacktraces cost no more.
func StacktraceFP(u *stack.Unwinder, mem MemoryReader, g *G, regs *arch.Registers, loadFP func() (arch.FPRegisters, error), maxDepth int) ([]stack.Frame, error) {
	opts := stack.Options{MaxDepth: maxDepth}
	if regs != nil {
		// A thread whose stack pointer is outside its goroutine's stack
		// runs on g0 or gsignal (e.g. parking it: the status already says
		// waiting, g.m is not yet cleared); its frames continue from g.sched.
		offStack := g != nil && g.StackHi != 0 && (regs.Rsp < g.StackLo || regs.Rsp >= g.StackHi)
		if g != nil && (g.OnSystemStack || offStack) && g.Sched.SP != 0 {
			curg := g.Sched
			opts.Curg = &curg
		} else if g != nil && g.StackHi != 0 && !offStack {
			// Off its stack with no saved context (a fatal signal raised
			// on the gsignal stack, as in a GOTRACEBACK=crash core), the
			// goroutine's bounds say nothing of the frames the CFI finds.
			opts.StackLo, opts.StackHi = g.StackLo, g.StackHi
		}
		return u.Unwind(mem, stack.FromRegistersFP(regs, loadFP), opts)
	}
	if g == nil {
		return nil, fmt.Errorf("no goroutine and no thread to unwind")
	}
	opts.StackLo, opts.StackHi = g.StackLo, g.StackHi
	return u.UnwindSched(windowed(mem, g), g.Sched, opts)
}
