package proc

import (
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
)

// binSymbols implements Symbols over pkg/proc/bininfo.
type binSymbols struct {
	bi *bininfo.BinaryInfo
}

// NewSymbols adapts a BinaryInfo to the Symbols the core needs.
func NewSymbols(bi *bininfo.BinaryInfo) Symbols {
	return &binSymbols{bi: bi}
}

func toFunc(fn *bininfo.Function) Func { return Func{Name: fn.Name, Entry: fn.Entry, End: fn.End} }

func (s *binSymbols) SetLoadBias(bias uint64) { s.bi.SetLoadBias(bias) }
func (s *binSymbols) EntryPoint() uint64      { return s.bi.EntryPoint() }

func (s *binSymbols) LookupFunc(name string) (Func, error) {
	fn, err := s.bi.LookupFunc(name)
	if err != nil {
		return Func{}, err
	}
	return toFunc(fn), nil
}

func (s *binSymbols) PCToFunc(pc uint64) (Func, bool) {
	fn := s.bi.PCToFunc(pc)
	if fn == nil {
		return Func{}, false
	}
	return toFunc(fn), true
}

func (s *binSymbols) PCToLine(pc uint64) (string, int, string, bool) {
	file, line, fn := s.bi.PCToLine(pc)
	if fn == nil || line == 0 {
		return file, line, "", false
	}
	name := fn.Name
	if inl := s.bi.InlinedCallsAt(pc); len(inl) > 0 {
		name = inl[0].Func
	}
	return file, line, name, true
}

// LineToPCs puts a line breakpoint where Delve does: one address in each
// body that holds the line, every out-of-line function and every inlined
// copy (see bininfo.LineBreakpointPCs). Later rows of the same line in one
// body (loop back-edges, the code after a deferreturn call) are not where
// a user expects the line to start.
func (s *binSymbols) LineToPCs(file string, line int) ([]uint64, error) {
	return s.bi.LineBreakpointPCs(file, line)
}

func (s *binSymbols) FirstPCAfterPrologue(fn Func) (uint64, error) {
	f := s.bi.PCToFunc(fn.Entry)
	if f == nil || f.Entry != fn.Entry {
		return 0, fmt.Errorf("no function at %#x", fn.Entry)
	}
	return s.bi.FirstPCAfterPrologue(f), nil
}

func (s *binSymbols) Funcs(prefix string) []Func {
	var out []Func
	for _, f := range s.bi.FuncsMatching(regexp.MustCompile("^" + regexp.QuoteMeta(prefix))) {
		out = append(out, toFunc(f))
	}
	return out
}

// StmtPCs returns the statements of fn's code, inlined calls included.
func (s *binSymbols) StmtPCs(fn Func) ([]LinePC, error) {
	f := s.bi.PCToFunc(fn.Entry)
	if f == nil || f.Entry != fn.Entry {
		return nil, fmt.Errorf("no function at %#x", fn.Entry)
	}
	stmts, err := s.bi.StmtPCs(f, false)
	if err != nil {
		return nil, err
	}
	out := make([]LinePC, len(stmts))
	for i, st := range stmts {
		out[i] = LinePC{PC: st.PC, File: st.File, Line: st.Line}
	}
	return out, nil
}

func (s *binSymbols) InlinedCallsAt(pc uint64) []InlinedCall {
	calls := s.bi.InlinedCallsAt(pc)
	out := make([]InlinedCall, len(calls))
	for i, c := range calls {
		out[i] = InlinedCall{Func: c.Func, CallFile: c.CallFile, CallLine: c.CallLine, Ranges: c.Ranges, ID: uint64(c.Offset)}
	}
	return out
}

// FuncEntryStmts puts a function's breakpoint after the prologue of its
// out-of-line copy and at the start of every inlined copy, as Delve does,
// so that a function the optimizer inlined still stops on every call.
func (s *binSymbols) FuncEntryStmts(name string) ([]uint64, error) {
	fn, insts, err := s.bi.LookupFuncInstances(name)
	if err != nil {
		return nil, err
	}
	var pcs []uint64
	if fn != nil {
		pcs = append(pcs, s.bi.FirstPCAfterPrologue(fn))
	}
	for _, inst := range insts {
		pcs = append(pcs, s.bi.BreakpointPC(inst))
	}
	sort.Slice(pcs, func(i, j int) bool { return pcs[i] < pcs[j] })
	out := pcs[:0]
	for i, pc := range pcs {
		if i == 0 || pc != pcs[i-1] {
			out = append(out, pc)
		}
	}
	return out, nil
}

// goRuntime implements Runtime with pkg/proc/goroutine and pkg/proc/stack.
type goRuntime struct {
	bi  *bininfo.BinaryInfo
	mem stack.MemoryReader
	u   *stack.Unwinder
}

// NewRuntime adapts the goroutine reader and the stack unwinder of one
// executable to the Runtime the core needs; mem reads the process memory.
func NewRuntime(bi *bininfo.BinaryInfo, mem stack.MemoryReader) Runtime {
	return &goRuntime{bi: bi, mem: mem, u: stack.New(bi)}
}

func (r *goRuntime) CurrentGoroutine(th Thread) (Goroutine, error) {
	regs, err := th.Registers()
	if err != nil {
		return Goroutine{}, err
	}
	g, err := goroutine.Current(r.bi, r.mem, &regs)
	if err != nil || g == nil {
		return Goroutine{}, err
	}
	return Goroutine{ID: int64(g.ID), StackHi: g.StackHi}, nil
}

// maxInlineSlack is how many inlined frames an unwind may meet on top of
// the physical ones asked for.
const maxInlineSlack = 16

// Unwind returns physical frames only: inlined logical frames share the
// CFA and return address of the frame that owns their code.
func (r *goRuntime) Unwind(th Thread, regs arch.Registers, depth int) ([]Frame, error) {
	// MaxDepth counts logical frames: leave room for the inlined ones so
	// that depth physical frames come back even inside inlined code.
	frames, err := r.u.Unwind(r.mem, stack.FromRegisters(&regs), stack.Options{MaxDepth: depth + maxInlineSlack})
	var out []Frame
	for _, f := range frames {
		if !f.Inlined && len(out) < depth {
			out = append(out, Frame{PC: f.PC, CFA: f.CFA, Fn: f.Func.Name})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no frames at PC %#x: %w", regs.PC(), err)
	}
	return out, nil
}

// ParkedFrames unwinds a parked goroutine from its saved context (g.sched).
func (r *goRuntime) ParkedFrames(goid int64, depth int) (Goroutine, []Frame, error) {
	gs, err := goroutine.List(r.bi, r.mem)
	if err != nil {
		return Goroutine{}, nil, fmt.Errorf("listing goroutines: %w", err)
	}
	for _, g := range gs {
		if int64(g.ID) != goid {
			continue
		}
		if g.ThreadID != 0 {
			return Goroutine{}, nil, fmt.Errorf("goroutine %d is running on thread %d", goid, g.ThreadID)
		}
		frames, err := goroutine.Stacktrace(r.u, r.mem, g, nil, depth+maxInlineSlack)
		var out []Frame
		for _, f := range frames {
			if !f.Inlined && len(out) < depth {
				out = append(out, Frame{PC: f.PC, CFA: f.CFA, Fn: f.Func.Name})
			}
		}
		if len(out) == 0 {
			return Goroutine{}, nil, fmt.Errorf("goroutine %d has no frames: %w", goid, errors.Join(err, errors.New("empty stack")))
		}
		return Goroutine{ID: goid, StackHi: g.StackHi}, out, nil
	}
	return Goroutine{}, nil, fmt.Errorf("no goroutine %d", goid)
}
