package eval

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// Located is one variable visible at a PC with its DWARF location
// expression there, for code that reads variables without a stopped
// process (the in-kernel condition compiler, pkg/proc/ebpf/cond). It is
// found exactly as a scope finds the variables an expression names.
type Located struct {
	Name    string       // as expressions name it ("&" of an escaped variable removed)
	Type    godwarf.Type // the declared type; for an escaped variable, the pointer's
	Expr    []byte       // location expression at the PC; nil when Err is set
	Escaped bool         // moved to the heap: the location holds the variable's address
	Arg     bool
	// Err says why the variable cannot be located from the PC alone: no
	// location there, a closure context still in DX, a generic shape.
	Err error
}

// LocatedScope is what Located variables are read in: the function of
// the PC and the registers template (load bias, .debug_addr resolver) a
// location expression is executed with.
type LocatedScope struct {
	Func *bininfo.Function
	Regs op.DwarfRegisters
	Vars []Located // in lookup order: a name resolves to the last match
}

// LocateVars returns the variables visible at the run-time pc in the
// innermost (inlined or physical) function containing it, in the order Scope's lookup searches
// them (the last one of a name wins).
func (p *Program) LocateVars(pc uint64) (*LocatedScope, error) {
	s, err := p.PCScope(nil, nil, pc)
	if err != nil {
		return nil, err
	}
	// Inside inlined code a stop there evaluates in the innermost inlined
	// call's frame (frame 0), as VarAt does: its variables, not the
	// physical function's.
	if calls := p.BI.InlinedCallsAt(pc); len(calls) > 0 {
		s.root = calls[0].Offset
	}
	ents, err := s.entries()
	if err != nil {
		return nil, err
	}
	out := &LocatedScope{Func: s.fn, Regs: *s.regs}
	for i := range ents {
		e := &ents[i]
		l := Located{Name: strings.TrimPrefix(e.name, "&"), Escaped: strings.HasPrefix(e.name, "&"), Arg: e.isArg}
		typ, err := p.Types.Type(e.typ)
		switch {
		case err != nil:
			l.Err = fmt.Errorf("could not read type of %s: %w", l.Name, err)
		case isShape(typ):
			l.Err = errors.New("generic shape type read through the dictionary")
		case s.inContext(e):
			l.Err = errors.New("captured variable still in the closure context")
		case s.slotPending(e):
			l.Err = fmt.Errorf("not yet written: the instruction at %#x sets its stack slot", e.setupStore)
		default:
			l.Type = typ
			l.Expr, l.Err = s.locationExpr(e.entry)
			if l.Err == nil {
				l.Expr = s.abiArgExpr(e, l.Expr)
			}
		}
		out.Vars = append(out.Vars, l)
	}
	return out, nil
}

func isShape(t godwarf.Type) bool {
	td, ok := t.(*godwarf.TypedefType)
	return ok && td.DictIndex >= 0 && td.Type != nil
}
