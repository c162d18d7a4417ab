package eval

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// CaptureVar is a variable as a probe that never stops the program finds
// it at one PC: its type and the DWARF location expression that holds at
// that PC, chosen by the same visibility and shadowing rules the stopped
// evaluator uses, so both read the same variable.
type CaptureVar struct {
	Name string
	Type godwarf.Type
	Expr []byte
	// Escaped is set for a variable moved to the heap: its location holds
	// a pointer to it, and Type is that pointer's type.
	Escaped bool
}

// VarAt finds the variable name visible at the run-time pc of the
// innermost frame (the inlined call's scope where pc is inside one, as a
// stop there evaluates it). It refuses, with the reason, what a probe
// cannot locate from the registers and stack alone.
func (p *Program) VarAt(pc uint64, name string) (CaptureVar, error) {
	s, err := p.PCScope(nil, nil, pc)
	if err != nil {
		return CaptureVar{}, err
	}
	if calls := p.BI.InlinedCallsAt(pc); len(calls) > 0 {
		s.root = calls[0].Offset
	}
	ents, err := s.entries()
	if err != nil {
		return CaptureVar{}, err
	}
	for i := len(ents) - 1; i >= 0; i-- {
		e := &ents[i]
		if e.name != name && e.name != "&"+name {
			continue
		}
		if e.captured && !e.isArg && s.root == s.fn.Offset && pc <= p.BI.FrameSetupEnd(s.fn) {
			return CaptureVar{}, fmt.Errorf("%s is read from the closure context here", name)
		}
		typ, err := p.Types.Type(e.typ)
		if err != nil {
			return CaptureVar{}, fmt.Errorf("type of %s: %w", name, err)
		}
		if td, ok := typ.(*godwarf.TypedefType); ok && td.DictIndex >= 0 {
			return CaptureVar{}, fmt.Errorf("%s has a generic shape type, known only from the dictionary", name)
		}
		expr, err := s.locationExpr(e.entry)
		if err != nil {
			return CaptureVar{}, fmt.Errorf("%s: %w", name, err)
		}
		cv := CaptureVar{Name: name, Type: typ, Expr: expr, Escaped: strings.HasPrefix(e.name, "&")}
		if cv.Escaped {
			if _, ok := godwarf.ResolveTypedef(typ).(*godwarf.PtrType); !ok {
				return CaptureVar{}, fmt.Errorf("escaped variable %s is not a pointer", name)
			}
		}
		return cv, nil
	}
	return CaptureVar{}, errors.New("not an argument or local variable in scope here (a probe reads no package variable)")
}

// ArgNamesAt lists the arguments and the results of the innermost
// function at the run-time pc, in declaration order, as a stop there
// lists them (args).
func (p *Program) ArgNamesAt(pc uint64) (args, results []string) {
	s, err := p.PCScope(nil, nil, pc)
	if err != nil {
		return nil, nil
	}
	if calls := p.BI.InlinedCallsAt(pc); len(calls) > 0 {
		s.root = calls[0].Offset
	}
	ents, err := s.entries()
	if err != nil {
		return nil, nil
	}
	for _, e := range ents {
		name := strings.TrimPrefix(e.name, "&")
		switch {
		case e.isRet:
			results = append(results, name)
		case e.isArg:
			args = append(args, name)
		}
	}
	return args, results
}
