package proc

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"sync"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
)

// binSymbols implements Symbols over pkg/proc/bininfo.
type binSymbols struct {
	bi *bininfo.BinaryInfo

	mu    sync.Mutex
	stmts map[dwarf.Offset][]LinePC // per compile unit, link-time addresses, ascending
}

// NewSymbols adapts a BinaryInfo to the Symbols the core needs.
func NewSymbols(bi *bininfo.BinaryInfo) Symbols {
	return &binSymbols{bi: bi, stmts: map[dwarf.Offset][]LinePC{}}
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

// LineToPCs keeps the first statement address of the line in each body
// that contains it: every out-of-line function and every inlined copy. Later
// rows of the same line in one body (loop back-edges, the code after a
// deferreturn call) are not where a user expects the line to start.
func (s *binSymbols) LineToPCs(file string, line int) ([]uint64, error) {
	pcs, err := s.bi.LineToPCs(file, line)
	if err != nil {
		return nil, err
	}
	type body struct{ fn, inl uint64 }
	seen := map[body]bool{}
	var out []uint64
	for _, pc := range pcs { // ascending
		var b body
		if fn := s.bi.PCToFunc(pc); fn != nil {
			b.fn = fn.Entry
		}
		if inl := s.bi.InlinedCallsAt(pc); len(inl) > 0 && len(inl[0].Ranges) > 0 {
			b.inl = inl[0].Ranges[0][0]
		}
		if !seen[b] {
			seen[b] = true
			out = append(out, pc)
		}
	}
	return out, nil
}

func (s *binSymbols) FirstStmtAfterPrologue(fn Func) (uint64, error) {
	f := s.bi.PCToFunc(fn.Entry)
	if f == nil || f.Entry != fn.Entry {
		return 0, fmt.Errorf("no function at %#x", fn.Entry)
	}
	return s.bi.FirstStmtAfterPrologue(f), nil
}

func (s *binSymbols) Funcs(prefix string) []Func {
	var out []Func
	for _, f := range s.bi.FuncsMatching(regexp.MustCompile("^" + regexp.QuoteMeta(prefix))) {
		out = append(out, toFunc(f))
	}
	return out
}

// StmtPCs reads the is_stmt rows of fn's compile unit from the DWARF line
// table; bininfo answers line→PCs and PC→line but not "every statement of
// a function", which next needs.
func (s *binSymbols) StmtPCs(fn Func) ([]LinePC, error) {
	f := s.bi.PCToFunc(fn.Entry)
	if f == nil || f.CU == nil {
		return nil, fmt.Errorf("no compile unit for %s", fn.Name)
	}
	rows, err := s.unitStmts(f.CU.Offset)
	if err != nil {
		return nil, err
	}
	bias := s.bi.Bias()
	lo, hi := fn.Entry-bias, fn.End-bias
	i := sort.Search(len(rows), func(i int) bool { return rows[i].PC >= lo })
	var out []LinePC
	for ; i < len(rows) && rows[i].PC < hi; i++ {
		r := rows[i]
		r.PC += bias
		out = append(out, r)
	}
	return out, nil
}

func (s *binSymbols) unitStmts(off dwarf.Offset) ([]LinePC, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rows, ok := s.stmts[off]; ok {
		return rows, nil
	}
	d, err := s.bi.DWARF()
	if err != nil {
		return nil, err
	}
	r := d.Reader()
	r.Seek(off)
	cu, err := r.Next()
	if err != nil || cu == nil {
		return nil, fmt.Errorf("reading compile unit at %#x: %w", off, errors.Join(err, errors.New("missing entry")))
	}
	lr, err := d.LineReader(cu)
	if err != nil || lr == nil {
		return nil, fmt.Errorf("line table of unit at %#x: %w", off, errors.Join(err, errors.New("missing")))
	}
	var rows []LinePC
	var e dwarf.LineEntry
	for {
		if err := lr.Next(&e); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("line table of unit at %#x: %w", off, err)
		}
		if e.IsStmt && !e.EndSequence && e.File != nil {
			rows = append(rows, LinePC{PC: e.Address, File: e.File.Name, Line: e.Line})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].PC < rows[j].PC })
	s.stmts[off] = rows
	return rows, nil
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

// Unwind returns physical frames only: inlined logical frames share the
// CFA and return address of the frame that owns their code.
func (r *goRuntime) Unwind(th Thread, regs arch.Registers, depth int) ([]Frame, error) {
	frames, err := r.u.Unwind(r.mem, stack.FromRegisters(&regs), stack.Options{MaxDepth: depth})
	var out []Frame
	for _, f := range frames {
		if !f.Inlined {
			out = append(out, Frame{PC: f.PC, CFA: f.CFA, Fn: f.Func.Name})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no frames at PC %#x: %w", regs.PC(), err)
	}
	return out, nil
}
