package eval

import (
	"errors"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// Arguments the register ABI passes on the stack live, for the whole call,
// in the caller's argument area at CFA+0 onwards, each at the offset the
// ABI assigns it. Go 1.26's optimized DWARF sometimes places such an
// argument 8 bytes past its slot (condhot's main.hot: `bs` at CFA+8, `sl` at
// CFA+32, overlapping `err` at CFA+48), and a debugger believing it shows
// another argument's bytes as this one's value; dlv 1.27.2 does. A location
// inside that area that is not the argument's own slot contradicts the ABI,
// so the slot wins.

// argSlots returns the CFA offsets and sizes of the function's
// stack-assigned arguments by name, computed once per scope.
func (s *Scope) argSlots() map[string][2]int64 {
	if s.slotsOK {
		return s.slots
	}
	s.slotsOK = true
	if s.fn == nil || s.root != s.fn.Offset {
		return nil // an inlined frame has no argument area of its own
	}
	params, err := probe.Params(s.prog.Types, s.fn)
	if err != nil {
		return nil
	}
	locs, err := probe.Assign(params, probe.ABIInternal)
	if err != nil {
		return nil
	}
	var end int64
	for i, p := range params {
		if !p.Result && !locs[i].InRegs {
			end = max(end, locs[i].StackOff+p.Type.Size())
		}
	}
	s.slots = map[string][2]int64{}
	for i, p := range params {
		if !p.Result && !locs[i].InRegs && p.Name != "" {
			s.slots[p.Name] = [2]int64{locs[i].StackOff, p.Type.Size()}
		}
	}
	s.argsEnd = end
	return s.slots
}

// abiArgAddr corrects the address DWARF gives a stack-assigned argument
// when it points into the argument area but not at the argument's slot.
func (s *Scope) abiArgAddr(e *varEntry, loc op.Location) uint64 {
	if off, ok := s.abiArgOff(e, loc, s.regs.CFA); ok {
		return uint64(s.regs.CFA + off)
	}
	return loc.Addr
}

// abiArgOff returns the argument's slot when loc, executed with the CFA
// at cfa, contradicts it.
func (s *Scope) abiArgOff(e *varEntry, loc op.Location, cfa int64) (int64, bool) {
	if !e.isArg || e.isRet || !loc.IsAddr || cfa == 0 {
		return 0, false
	}
	slot, ok := s.argSlots()[e.name]
	if !ok {
		return 0, false
	}
	off := int64(loc.Addr) - cfa
	if off == slot[0] || off < 0 || off >= s.argsEnd {
		return 0, false
	}
	return slot[0], true
}

// noMemory fails every read: a location expression executed without a
// process reads no memory.
type noMemory struct{}

func (noMemory) ReadMemory([]byte, uint64) (int, error) { return 0, errors.New("no memory") }

// abiArgExpr is the location expression of e for code that executes it
// later, without a process (LocateVars): DW_OP_fbreg to the argument's
// slot where expr contradicts it, else expr. Go's frame base is the CFA.
func (s *Scope) abiArgExpr(e *varEntry, expr []byte) []byte {
	const cfa = 1 << 40 // any address: only the offset from it matters
	regs := *s.regs
	regs.CFA, regs.FrameBase = cfa, cfa
	loc, err := op.Execute(expr, &regs, noMemory{}, s.prog.BI.PtrSize())
	if err != nil {
		return expr
	}
	off, ok := s.abiArgOff(e, loc, cfa)
	if !ok {
		return expr
	}
	return dwarfbuf.AppendSLEB128([]byte{0x91}, off) // DW_OP_fbreg
}
