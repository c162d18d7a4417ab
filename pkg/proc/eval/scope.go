package eval

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"
	"go/ast"
	"sort"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/dwarf/loclist"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// Scope is one stack frame as expressions see it: its function, the
// variables visible at its PC and its registers.
type Scope struct {
	prog *Program
	mem  *value.Overlay
	regs *op.DwarfRegisters
	pc   uint64 // run-time address used for lookups (PC-1 for callers)
	line int
	fn   *bininfo.Function
	root dwarf.Offset // DW_TAG_subprogram or DW_TAG_inlined_subroutine

	// SetRegister, when set, writes a DWARF register of this frame; only
	// the innermost frame's registers can be written back to the thread.
	SetRegister func(reg uint64, val uint64) error

	vars    []varEntry
	varsErr error
	varsOK  bool
	depth   int       // expression nesting, bounded by maxExprDepth
	dict    *varEntry // the generic dictionary (.dict) of a shaped function
	work    int       // comparison steps of the current evaluation

	setupEnd uint64 // end of the function's frame setup, once setupOK
	setupOK  bool
	body     uint64 // the function's first statement after its setup, once bodyOK
	bodyOK   bool
	// live is set for a frame on a stack, as opposed to PCScope's scope of
	// a function that has returned, whose results' slots are written.
	live bool

	results map[*ast.CallExpr]CallResult // injected calls already made (nested.go)

	slots   map[string][2]int64 // stack-assigned arguments' CFA offsets and sizes (abislots.go)
	argsEnd int64               // end of the argument area, from the CFA
	slotsOK bool
}

// ErrNoFunction is returned for a frame whose PC has no DWARF function.
var ErrNoFunction = errors.New("unable to find function context")

// FrameScope returns the scope of frames[i]. mem is the target's memory
// (it may also implement MemoryWriter). An inlined frame's scope holds the
// inlined call's variables; the physical frame's holds its own.
func (p *Program) FrameScope(mem Memory, frames []stack.Frame, i int) (*Scope, error) {
	if i < 0 || i >= len(frames) {
		return nil, fmt.Errorf("frame %d does not exist (%d frames)", i, len(frames))
	}
	f := frames[i]
	pc := f.LookupPC()
	fn := p.BI.PCToFunc(pc)
	if fn == nil {
		return nil, fmt.Errorf("%w at %#x", ErrNoFunction, f.PC)
	}
	root := fn.Offset
	if f.Inlined {
		// Frames of one physical frame come innermost first; the position
		// of frame i in its group is its inlining level.
		start := i
		for start > 0 && frames[start-1].Inlined && frames[start-1].CFA == f.CFA && frames[start-1].PC == f.PC {
			start--
		}
		calls := p.BI.InlinedCallsAt(pc)
		if level := i - start; level < len(calls) {
			root = calls[level].Offset
		}
	}
	sc := p.newScope(mem, f.Regs, pc, f.Line, fn, root)
	sc.live = true
	return sc, nil
}

// PCScope returns the scope of the physical function containing pc, with
// the registers of its frame (CFA and FrameBase set).
func (p *Program) PCScope(mem Memory, regs *op.DwarfRegisters, pc uint64) (*Scope, error) {
	fn := p.BI.PCToFunc(pc)
	if fn == nil {
		return nil, fmt.Errorf("%w at %#x", ErrNoFunction, pc)
	}
	_, line, _ := p.BI.PCToLine(pc)
	return p.newScope(mem, regs, pc, line, fn, fn.Offset), nil
}

func (p *Program) newScope(mem Memory, regs *op.DwarfRegisters, pc uint64, line int, fn *bininfo.Function, root dwarf.Offset) *Scope {
	r := &op.DwarfRegisters{}
	if regs != nil {
		c := *regs // the unwinder shares registers between inlined frames
		r = &c
	}
	r.StaticBase = p.BI.Bias()
	if fn.CU != nil && fn.CU.Version >= 5 {
		_, _, addrs := p.loclists()
		base := fn.CU.AddrBase
		r.AddrIndex = func(idx uint64) (uint64, error) {
			off := base + idx*8
			if off+8 > uint64(len(addrs)) || off < base {
				return 0, fmt.Errorf("address index %d outside .debug_addr", idx)
			}
			return binary.LittleEndian.Uint64(addrs[off:]), nil
		}
	}
	return &Scope{prog: p, mem: &value.Overlay{Parent: mem}, regs: r, pc: pc, line: line, fn: fn, root: root}
}

// Function returns the function the scope belongs to.
func (s *Scope) Function() *bininfo.Function { return s.fn }

// Line returns the source line the scope's visibility rules use.
func (s *Scope) Line() int { return s.line }

// entries returns the visible variable entries, read once per scope.
func (s *Scope) entries() ([]varEntry, error) {
	if s.varsOK {
		return s.vars, s.varsErr
	}
	s.varsOK = true
	d, err := s.prog.BI.DWARF()
	if err != nil {
		s.varsErr = err
		return nil, err
	}
	tree, err := readTree(d, s.root)
	if err != nil {
		s.varsErr = err
		return nil, err
	}
	vars := collectVars(d, tree, s.pc-s.prog.BI.Bias(), s.line)
	kept := vars[:0]
	for _, v := range vars {
		if v.name == ".dict" {
			d := v
			s.dict = &d
		}
		if hiddenName(v.name) {
			continue
		}
		if v.isArg && v.depth <= 1 {
			v.depth = 0
		}
		s.markSetupStores(&v)
		v.sortLine = v.declLine
		if _, ok := s.closureContext(&v); ok && v.declLine == s.line {
			// Delve's order: at the entry it reads the captured variables
			// declared on the closure's line from the context, as values
			// without a declaration line, so they come first.
			v.sortLine = 0
		}
		kept = append(kept, v)
	}
	sort.SliceStable(kept, func(i, j int) bool {
		if kept[i].depth == kept[j].depth {
			return kept[i].sortLine < kept[j].sortLine
		}
		return kept[i].depth < kept[j].depth
	})
	s.vars = kept
	return kept, nil
}

// hiddenName reports compiler-generated variables Delve does not list.
func hiddenName(name string) bool {
	return name == "" || name == ".dict" || name == ".closureptr" ||
		strings.HasPrefix(name, "#yield") || strings.HasPrefix(name, "&#yield")
}

// ScopeVar is one variable of a frame with its role.
type ScopeVar struct {
	Var      *value.Variable
	Arg      bool // a function parameter
	Return   bool // a result parameter (~r0 or a named result)
	Shadowed bool // hidden by an inner variable of the same name
	Escaped  bool // moved to the heap (DWARF's "&x"): read through a pointer
	DeclLine int
}

// Variables returns every argument, result and local visible in the
// scope, ordered as Delve orders them (outer blocks first, then by
// declaration line) with shadowed ones marked.
func (s *Scope) Variables(cfg value.LoadConfig) ([]ScopeVar, error) {
	s.mem.Reset()
	ents, err := s.entries()
	if err != nil {
		return nil, err
	}
	out := make([]ScopeVar, 0, len(ents))
	last := map[string]int{}
	for i := range ents {
		e := &ents[i]
		v := s.varValue(e)
		sv := ScopeVar{Var: s.load(v, v.name, cfg), Arg: e.isArg && !e.isRet, Return: e.isRet, DeclLine: e.declLine,
			Escaped: strings.HasPrefix(e.name, "&")}
		if j, ok := last[v.name]; ok {
			out[j].Shadowed = true
		}
		last[v.name] = len(out)
		out = append(out, sv)
	}
	return out, nil
}

// Locals returns the visible local variables (not arguments or results).
func (s *Scope) Locals(cfg value.LoadConfig) ([]ScopeVar, error) {
	return s.filter(cfg, false)
}

// Args returns the arguments and results, as Delve's args command lists them.
func (s *Scope) Args(cfg value.LoadConfig) ([]ScopeVar, error) {
	return s.filter(cfg, true)
}

func (s *Scope) filter(cfg value.LoadConfig, args bool) ([]ScopeVar, error) {
	all, err := s.Variables(cfg)
	if err != nil {
		return nil, err
	}
	var out []ScopeVar
	for _, v := range all {
		if (v.Arg || v.Return) == args {
			out = append(out, v)
		}
	}
	return out, nil
}

// lookupLocal finds the innermost visible variable called name.
func (s *Scope) lookupLocal(name string) (*evalValue, bool) {
	ents, err := s.entries()
	if err != nil {
		return nil, false
	}
	for i := len(ents) - 1; i >= 0; i-- {
		n := ents[i].name
		if n == name || (n == "&"+name) {
			return s.varValue(&ents[i]), true
		}
	}
	return nil, false
}

// varValue locates one variable: through its location expression or
// location list, dereferencing escaped ("&x") variables.
func (s *Scope) varValue(e *varEntry) *evalValue {
	name := strings.TrimPrefix(e.name, "&")
	v := &evalValue{name: name, reg: -1}
	typ, err := s.prog.Types.Type(e.typ)
	if err != nil {
		v.unreadable = fmt.Errorf("could not read type of %s: %w", name, err)
		return v
	}
	v.typ = s.unshape(typ)
	typ = v.typ
	if s.resultUnwritten(e) {
		// By the language a result is its zero value until assigned, and
		// no statement has run yet: that is its value, not the slot's.
		size := typ.Size()
		if size < 0 || size > 1<<20 {
			v.unreadable = fmt.Errorf("invalid size %d for a result", size)
			return v
		}
		addr, err := s.mem.Alloc(make([]byte, size))
		if err != nil {
			v.unreadable = err
			return v
		}
		v.addr = addr
	} else if ctx, ok := s.closureContext(e); ok {
		v.addr = ctx + uint64(e.ctxOff)
	} else if s.slotPending(e) {
		v.unreadable = fmt.Errorf("not yet written: the instruction at %#x sets %s's stack slot", e.setupStore, name)
		return v
	} else if err := s.locate(v, e, typ); err != nil {
		v.unreadable = err
		return v
	}
	if e.name != name { // escaped to the heap: the location holds its address
		ptr, ok := godwarf.ResolveTypedef(typ).(*godwarf.PtrType)
		if !ok {
			v.unreadable = fmt.Errorf("escaped variable %s is not a pointer", name)
			return v
		}
		p, err := readWord(s.mem, v.addr)
		if err != nil {
			v.unreadable = err
			return v
		}
		if p == 0 {
			v.unreadable = errors.New("no address for escaped variable")
		}
		v.typ, v.addr, v.reg = ptr.Elem, p, -1
	}
	return v
}

// closureContext returns the closure context a captured variable is read
// from while the function has not yet run code of its own: until the end
// of its frame setup the context register (DX) still holds it, while the
// variable's own location (a stack slot, a location list) is only written
// by the code after. Delve does the same on the closure's declaration line.
func (s *Scope) closureContext(e *varEntry) (uint64, bool) {
	if !s.inContext(e) {
		return 0, false
	}
	ctx, ok := s.regs.Reg(regnum.Rdx)
	return ctx, ok && ctx != 0
}

// inContext reports whether the captured variable e is to be read from
// the closure context at the scope's PC: up to the end of the frame
// setup, or, where the setup code copies it (SetupStores), up to that
// copy while DX is still the context.
func (s *Scope) inContext(e *varEntry) bool {
	if !e.captured || e.isArg || s.root != s.fn.Offset || s.pc < s.fn.Entry {
		return false
	}
	if !s.setupOK {
		s.setupOK, s.setupEnd = true, s.prog.BI.FrameSetupEnd(s.fn)
	}
	return s.pc <= s.setupEnd || (s.slotPending(e) && s.pc <= e.ctxUntil)
}

// resultUnwritten reports whether e is a result whose one stack slot the
// function has not initialised yet. The compiler zeroes such a result
// after the frame setup, just before the body's first statement (the
// code is on the func line and not a statement); until then the slot
// holds whatever an earlier call left there, which would be shown as the
// result (a slice of len 824634574816 in cmd/go's PackagesAndErrors,
// go1.22 -N -l). A result with a location list, or an empty location (an
// optimized-out one), is located as usual.
func (s *Scope) resultUnwritten(e *varEntry) bool {
	if !e.isRet || !s.live || s.root != s.fn.Offset || s.pc < s.fn.Entry {
		return false
	}
	f := e.entry.AttrField(dwarf.AttrLocation)
	if f == nil || (f.Class != dwarf.ClassExprLoc && f.Class != dwarf.ClassBlock) {
		return false
	}
	if expr, _ := f.Val.([]byte); len(expr) == 0 {
		return false
	}
	if !s.bodyOK {
		s.bodyOK = true
		if !s.setupOK {
			s.setupOK, s.setupEnd = true, s.prog.BI.FrameSetupEnd(s.fn)
		}
		// A one-line leaf function has no statement after its setup: its
		// zeroing follows the setup at once (os.(*fileStat).Size, go1.24).
		s.body = s.setupEnd + 1
		stmts, _ := s.prog.BI.StmtPCs(s.fn, false)
		for _, st := range stmts {
			if st.PC > s.setupEnd {
				s.body = st.PC
				break
			}
		}
	}
	return s.pc < s.body
}

// locate sets v's address from the variable's location at the scope's PC,
// copying a register-held value into the scope's overlay.
func (s *Scope) locate(v *evalValue, e *varEntry, typ godwarf.Type) error {
	expr, err := s.locationExpr(e.entry)
	if err != nil {
		return err
	}
	loc, err := op.Execute(expr, s.regs, s.mem.Parent, s.prog.BI.PtrSize())
	if err != nil {
		return err
	}
	if loc.IsAddr {
		v.addr = s.abiArgAddr(e, loc)
		return nil
	}
	size := typ.Size()
	if size < 0 || size > 1<<20 {
		return fmt.Errorf("invalid size %d for a value in registers", size)
	}
	b, err := loc.Bytes(int(size), s.regs, s.mem.Parent)
	if err != nil {
		return err
	}
	// Only general registers can be written back (SetRegister takes a
	// 64-bit word); a float in an XMM register stays read-only.
	if len(loc.Pieces) == 1 && loc.Pieces[0].Kind == op.RegisterPiece && loc.Pieces[0].Offset == 0 && size <= 8 && !regnum.IsXmm(loc.Pieces[0].Reg) {
		v.reg = int(loc.Pieces[0].Reg)
	}
	v.addr, err = s.mem.Alloc(b)
	return err
}

// noLocation is the error of a variable DWARF gives no location at the
// scope's PC (optimized out there), as opposed to one it fails to read.
type noLocation string

func (e noLocation) Error() string { return string(e) }

// locationExpr returns the expression describing entry at the scope's PC,
// with Delve's wording when the variable has no location there.
func (s *Scope) locationExpr(e *dwarf.Entry) ([]byte, error) {
	f := e.AttrField(dwarf.AttrLocation)
	if f == nil {
		return nil, noLocation("no location attribute")
	}
	var off int64
	switch f.Class {
	case dwarf.ClassExprLoc, dwarf.ClassBlock:
		expr, _ := f.Val.([]byte)
		if len(expr) == 0 {
			return nil, noLocation("empty OP stack")
		}
		return expr, nil
	case dwarf.ClassLocListPtr:
		off, _ = f.Val.(int64)
	case dwarf.ClassLocList:
		idx, _ := f.Val.(uint64)
		_, l5, _ := s.prog.loclists()
		if l5 == nil || s.fn.CU == nil {
			return nil, errors.New("location list index without .debug_loclists")
		}
		o, err := l5.OffsetOfIndex(s.fn.CU.LoclistsBase, idx)
		if err != nil {
			return nil, fmt.Errorf("location list index %d: %w", idx, err)
		}
		off = o
	default:
		return nil, fmt.Errorf("unsupported location class %v", f.Class)
	}
	var r loclist.Reader
	l4, l5, _ := s.prog.loclists()
	if s.fn.CU != nil && s.fn.CU.Version >= 5 && l5 != nil {
		r = l5
	} else if l4 != nil {
		r = l4
	} else if l5 != nil {
		r = l5
	}
	if r == nil {
		return nil, errors.New("no location list section")
	}
	bias := s.prog.BI.Bias()
	u := loclist.Unit{StaticBase: bias}
	if s.fn.CU != nil {
		u.Base = s.fn.CU.LowPC() - bias
		u.AddrBase = s.fn.CU.AddrBase
	}
	expr, err := r.Find(off, u, s.pc)
	if err != nil {
		return nil, fmt.Errorf("reading location list at %#x: %w", off, err)
	}
	if expr == nil {
		return nil, noLocation(fmt.Sprintf("could not find loclist entry at %#x for address %#x", off, s.pc))
	}
	if len(expr) == 0 {
		return nil, noLocation("empty OP stack")
	}
	return expr, nil
}

// unshape replaces a generic shape type (a typedef with a dictionary
// index, e.g. go.shape.int) by the type argument of this instantiation,
// read from the function's dictionary: entry i is the runtime type
// descriptor of type argument i. Without a readable dictionary the shape's
// underlying type is used.
func (s *Scope) unshape(t godwarf.Type) godwarf.Type {
	td, ok := t.(*godwarf.TypedefType)
	if !ok || td.DictIndex < 0 || td.Type == nil {
		return t
	}
	if s.dict != nil && td.DictIndex < 1<<16 {
		d := s.varValue(s.dict)
		if d.unreadable == nil {
			if p, err := readWord(s.mem, d.addr); err == nil && p != 0 {
				if ta, err := readWord(s.mem, p+uint64(td.DictIndex)*8); err == nil {
					if rt := s.prog.runtimeTypes(); rt != 0 && ta >= rt {
						if real, err := s.prog.Types.ByRuntimeType(ta - rt); err == nil {
							return real
						}
					}
				}
			}
		}
	}
	return td.Type
}

func readWord(mem Memory, addr uint64) (uint64, error) {
	var b [8]byte
	n, err := mem.ReadMemory(b[:], addr)
	if err != nil {
		return 0, fmt.Errorf("reading %#x: %w", addr, err)
	}
	if n != 8 {
		return 0, fmt.Errorf("reading %#x: short read", addr)
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}
