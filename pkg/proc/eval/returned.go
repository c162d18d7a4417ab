package eval

import (
	"debug/dwarf"
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// JustReturned is a thread's state at the instruction a function's RET
// went to, before the caller ran any: the register ABI then guarantees
// where every result is, even those an optimized build's DWARF does not
// locate (Go 1.22–1.26 give unnamed results an empty location).
type JustReturned struct {
	Regs *arch.Registers
	// LoadFP reads the XMM registers; nil when the backend cannot, which
	// leaves float results unreadable.
	LoadFP func() (arch.FPRegisters, error)
}

// ReturnScope returns the scope of fn, which has returned, as at its
// entry: with its frame at cfa (as it lies on the goroutine's stack now)
// and the other registers regs, so that its results' DWARF locations and
// ABI slots resolve against that frame. Delve reads results the same way.
func (p *Program) ReturnScope(mem Memory, regs arch.Registers, fn *bininfo.Function, cfa uint64) (*Scope, error) {
	// At the entry the return address had just been pushed below the CFA.
	regs.Rsp, regs.Rip = cfa-8, fn.Entry
	r := stack.FromRegisters(&regs)
	r.CFA, r.FrameBase = int64(cfa), int64(cfa)
	return p.PCScope(mem, r, fn.Entry)
}

// Results returns the results of the scope's function (a ReturnScope),
// each once. at, when
// not nil, says the thread has just returned from it: a result DWARF gives
// no location is then read where ABIInternal put it (the function's own
// ABI must be known to be that one), in registers or in the caller's
// argument area at CFA+offset. Otherwise it stays unreadable.
func (s *Scope) Results(cfg value.LoadConfig, at *JustReturned) ([]ScopeVar, error) {
	s.mem.Reset()
	ents, err := s.entries()
	if err != nil {
		return nil, err
	}
	abi := s.abiResults(at)
	var out []ScopeVar
	for _, e := range uniqueResults(ents) {
		v := s.varValue(e)
		var nl noLocation
		if l, ok := abi[v.name]; ok && errors.As(v.unreadable, &nl) {
			s.abiLocate(v, l, at)
		}
		out = append(out, ScopeVar{Var: s.load(v, v.name, cfg), Return: true, DeclLine: e.declLine})
	}
	return out, nil
}

// uniqueResults returns the result entries of ents, one per name. Go
// 1.22–1.26 describe a result twice in a function with a defer, and
// another variable may repeat a result's name only in an inner block,
// which a function's results never are. The entry kept is the first
// that has a location, else the first.
func uniqueResults(ents []varEntry) []*varEntry {
	var out []*varEntry
	at := map[string]int{}
	for i := range ents {
		e := &ents[i]
		if !e.isRet {
			continue
		}
		j, seen := at[e.name]
		if !seen {
			at[e.name] = len(out)
			out = append(out, e)
			continue
		}
		if !hasLocation(out[j]) && hasLocation(e) {
			out[j] = e
		}
	}
	return out
}

// hasLocation reports whether DWARF gives e a location somewhere in its
// function: a non-empty expression or a location list.
func hasLocation(e *varEntry) bool {
	f := e.entry.AttrField(dwarf.AttrLocation)
	if f == nil {
		return false
	}
	if expr, ok := f.Val.([]byte); ok {
		return len(expr) > 0
	}
	return true
}

// abiResult is where ABIInternal puts one result at a return.
type abiResult struct {
	loc  probe.Location
	size int64
}

// abiResults returns, by name, where the ABI placed the function's
// results when at says it just returned; nil when the function's ABI is
// not known to be ABIInternal or the scope is an inlined call's (which
// has no RET of its own).
func (s *Scope) abiResults(at *JustReturned) map[string]abiResult {
	if at == nil || at.Regs == nil || s.fn == nil || s.root != s.fn.Offset {
		return nil
	}
	if abi, ok := probe.FuncABI(s.prog.BI, s.fn); !ok || abi != probe.ABIInternal {
		return nil
	}
	params, err := probe.Params(s.prog.Types, s.fn)
	if err != nil {
		return nil
	}
	locs, err := probe.Assign(params, probe.ABIInternal)
	if err != nil {
		return nil
	}
	_, results, _, resLocs := probe.Split(params, locs)
	out := map[string]abiResult{}
	for i, p := range results {
		if _, dup := out[p.Name]; dup || p.Name == "" {
			return nil // results cannot be told apart by name
		}
		out[p.Name] = abiResult{loc: resLocs[i], size: p.Type.Size()}
	}
	return out
}

// abiLocate points v at the result the ABI placed at l.
func (s *Scope) abiLocate(v *evalValue, l abiResult, at *JustReturned) {
	if v.typ == nil || v.typ.Size() != l.size {
		return // the type DWARF names differs from the one assigned
	}
	if !l.loc.InRegs {
		v.addr, v.reg, v.unreadable = uint64(s.regs.CFA+l.loc.StackOff), -1, nil
		return
	}
	var fp *arch.FPRegisters
	if l.loc.HasFloat() && at.LoadFP != nil {
		x, err := at.LoadFP()
		if err != nil {
			v.unreadable = fmt.Errorf("reading the XMM registers: %w", err)
			return
		}
		fp = &x
	}
	b, err := l.loc.Assemble(at.Regs, fp, l.size)
	if err != nil {
		v.unreadable = err
		return
	}
	addr, err := s.mem.Alloc(b)
	if err != nil {
		v.unreadable = err
		return
	}
	v.addr, v.reg, v.unreadable = addr, -1, nil
}
