// Package cond compiles a Go condition expression, as it would be
// evaluated at one PC of a traced binary, to BPF instructions that a
// uprobe program runs on the registers the probe saw. Hits whose condition
// is false then never leave the kernel.
//
// The instructions follow one contract, which the wrapper programs (the
// breakpoint program in pkg/proc/native, the trace filter in pkg/proc/ebpf)
// rely on:
//
//   - On entry R6 holds the context (struct pt_regs * of the probed
//     instruction). The code keeps R6, may clobber R0-R5 and R7-R9, and uses
//     only the stack bytes [R10-512, R10-256); [R10-256, R10) belongs to the
//     wrapper.
//   - It ends with R0 = ResultFalse, ResultTrue or ResultFault (an invalid
//     pointer was read, a division by zero, an index out of range: the
//     cases where the ptrace evaluator reports an error) and jumps to the
//     instruction the wrapper labels EndSymbol, placed right after the code.
//
// Types follow the ptrace evaluator (pkg/proc/eval): an expression it
// rejects never compiles, and every value is computed as it would compute
// it (integers wrap to their type, untyped constants convert as it
// converts them). What cannot be compiled returns an error wrapping
// ErrNotCompilable with a one-line reason, and the caller falls back to
// stopping and evaluating.
package cond

import (
	"errors"
	"fmt"
	"go/parser"

	"github.com/cilium/ebpf/asm"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
)

// ErrNotCompilable is wrapped by every error for a condition that must be
// evaluated by stopping the program instead.
var ErrNotCompilable = errors.New("condition not compilable to BPF")

// EndSymbol is the label the wrapper puts on the instruction right after
// Program.Insns; the code jumps there with its result in R0.
const EndSymbol = "cond_end"

// Results in R0 at EndSymbol.
const (
	ResultFalse = 0
	ResultTrue  = 1
	ResultFault = 2 // the ptrace evaluator would have failed: counted, taken as false
)

// Stack bounds the code may use, relative to R10.
const (
	StackLow  = -512
	StackHigh = -256
)

// Defaults of Options.
const (
	DefaultMaxDerefs        = 8
	DefaultMaxStringCompare = 64
	maxStringConst          = 256
)

// Options tune Compile; the zero value is ready to use.
type Options struct {
	// Bias is the PIE load bias of the traced process: PC and package
	// variables' addresses are run-time addresses, link-time + Bias.
	Bias uint64
	// Eval is the binary's evaluation program, shared to reuse its type
	// cache; nil makes one from the BinaryInfo.
	Eval *eval.Program
	// MaxDerefs bounds the pointers one condition follows (0: 8).
	MaxDerefs int
	// MaxStringCompare bounds the bytes compared of two strings that are
	// both variables (0: 64); longer equal-length strings are a fault.
	MaxStringCompare int
}

// Read is one variable the condition reads, for `breakpoints` to show.
type Read struct {
	Name  string // as written in the condition
	Where string // its location at the PC: "RAX", "RAX,RBX", "CFA+8", "0x5a1230"
}

// Program is a compiled condition.
type Program struct {
	Expr  string
	PC    uint64 // run-time address the condition was compiled for
	Insns asm.Instructions
	Reads []Read
}

// notCompilable makes the error for a condition the compiler cannot take.
func notCompilable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotCompilable, fmt.Sprintf(format, args...))
}

// Compile compiles expr as a condition evaluated at the run-time address
// pc of the binary bi describes, with the variables in scope there.
func Compile(bi *bininfo.BinaryInfo, pc uint64, expr string, opts Options) (prog *Program, err error) {
	defer func() {
		// A compiler bug must not take the debugger down: the condition
		// is then evaluated by stopping, as any other it cannot take.
		if r := recover(); r != nil {
			prog, err = nil, notCompilable("internal error compiling %q: %v", expr, r)
		}
	}()
	if opts.MaxDerefs <= 0 {
		opts.MaxDerefs = DefaultMaxDerefs
	}
	if opts.MaxStringCompare <= 0 {
		opts.MaxStringCompare = DefaultMaxStringCompare
	}
	opts.MaxStringCompare = (opts.MaxStringCompare + 7) &^ 7
	p := opts.Eval
	if p == nil {
		var err error
		if p, err = eval.NewProgram(bi); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotCompilable, err)
		}
	}
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotCompilable, err)
	}
	link := pc - opts.Bias
	scope, err := p.LocateVars(link + bi.Bias())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotCompilable, err)
	}
	c := &compiler{bi: bi, prog: p, scope: scope, opts: opts, linkPC: link, nslots: firstValueSlot}
	insns, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	return &Program{Expr: expr, PC: pc, Insns: insns, Reads: dedup(c.reads)}, nil
}

// dedup keeps the first of reads of one variable at one place.
func dedup(reads []Read) []Read {
	var out []Read
	seen := map[Read]bool{}
	for _, r := range reads {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
