package cond

import (
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
)

// placeKind says where the bytes of a value are at run time.
type placeKind uint8

const (
	inCFA  placeKind = iota // memory at CFA + off
	inAbs                   // memory at addr + off (package variables)
	inPtr                   // memory at the address held in a value slot, + off
	inRegs                  // assembled from pieces (registers, memory, constants)
)

// place is a value's location, read lazily: nothing is emitted until a
// word of it is loaded.
type place struct {
	kind   placeKind
	off    int64
	addr   uint64
	slot   int
	pieces []piece
}

// piece is one part [start, start+size) of a value in pieces.
type piece struct {
	start, size int64
	isReg       bool
	ptSlot      int // pt_regs slot of the register
	regOff      int // byte offset inside the register
	mem         *place
	bytes       []byte // a constant part
}

// at returns the place off bytes further.
func (pl *place) at(off int64) *place {
	q := *pl
	q.off += off
	return &q
}

// cfaSentinel stands for the CFA when a location expression is executed
// at compile time: an address near it is CFA-relative.
const cfaSentinel = 1 << 46

const cfaWindow = 1 << 24

// locate turns a variable's location expression at the PC into a place.
func (c *compiler) locate(v *eval.Located) (*place, string, error) {
	regs := c.scope.Regs
	regs.StaticBase = c.opts.Bias
	regs.CFA, regs.FrameBase = cfaSentinel, cfaSentinel
	loc, err := op.Execute(v.Expr, &regs, nil, c.bi.PtrSize())
	if err != nil {
		return nil, "", notCompilable("location of %s at the PC: %v", v.Name, err)
	}
	if loc.IsAddr {
		pl := memPlace(loc.Addr)
		return pl, placeText(pl), nil
	}
	size := v.Type.Size()
	pl := &place{kind: inRegs}
	var where []string
	pos := int64(0)
	for _, p := range loc.Pieces {
		n := int64(p.Size)
		if n == 0 || n > size-pos {
			n = size - pos
		}
		pc := piece{start: pos, size: n}
		switch p.Kind {
		case op.RegisterPiece:
			if p.Reg >= uint64(len(ptRegsSlot)) || p.Reg == regnum.Rip {
				return nil, "", notCompilable("%s is in register %s, which a uprobe does not see", v.Name, regnum.Name(int(p.Reg)))
			}
			pc.isReg, pc.ptSlot, pc.regOff = true, ptRegsSlot[p.Reg], p.Offset
			where = append(where, strings.ToUpper(regnum.Name(int(p.Reg))))
		case op.MemoryPiece:
			pc.mem = memPlace(p.Addr)
			where = append(where, placeText(pc.mem))
		case op.ValuePiece:
			b := make([]byte, 8)
			for i := range b {
				b[i] = byte(p.Value >> (8 * i))
			}
			if p.Offset < len(b) {
				b = b[p.Offset:]
			}
			pc.bytes = b
			where = append(where, "constant")
		case op.ImplicitPiece:
			pc.bytes = p.Bytes
			where = append(where, "constant")
		default:
			return nil, "", notCompilable("%s is optimized out at the PC", v.Name)
		}
		pl.pieces = append(pl.pieces, pc)
		pos += n
		if pos >= size {
			break
		}
	}
	if pos < size {
		return nil, "", notCompilable("%s is optimized out at the PC", v.Name)
	}
	return pl, strings.Join(where, ","), nil
}

// memPlace classifies an address computed with the CFA sentinel.
func memPlace(addr uint64) *place {
	if d := int64(addr - cfaSentinel); d > -cfaWindow && d < cfaWindow {
		return &place{kind: inCFA, off: d}
	}
	return &place{kind: inAbs, addr: addr}
}

func placeText(pl *place) string {
	switch pl.kind {
	case inCFA:
		return fmt.Sprintf("CFA%+d", pl.off)
	case inAbs:
		return fmt.Sprintf("%#x", pl.addr)
	}
	return "memory"
}

// lookupVar finds a local or argument the way the evaluator's scope does:
// the last visible entry of the name.
func (c *compiler) lookupVar(name string) (*eval.Located, bool) {
	vs := c.scope.Vars
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Name == name {
			return &vs[i], true
		}
	}
	return nil, false
}

// variable makes the operand of a local or argument.
func (c *compiler) variable(v *eval.Located) (*operand, error) {
	if v.Err != nil {
		return nil, notCompilable("%s: %v", v.Name, v.Err)
	}
	pl, where, err := c.locate(v)
	if err != nil {
		return nil, err
	}
	c.reads = append(c.reads, Read{Name: v.Name, Where: where})
	if !v.Escaped {
		return &operand{name: v.Name, typ: v.Type, pl: pl}, nil
	}
	pt, ok := godwarf.ResolveTypedef(v.Type).(*godwarf.PtrType)
	if !ok {
		return nil, notCompilable("escaped variable %s is not a pointer", v.Name)
	}
	// The evaluator reads the heap address first and fails when it is 0.
	s, err := c.pointerSlot(pl, 0)
	if err != nil {
		return nil, err
	}
	return &operand{name: v.Name, typ: pt.Elem, pl: &place{kind: inPtr, slot: s}}, nil
}

// pointerSlot loads the pointer at pl+off, faults when it is nil, and
// keeps it in a new slot.
func (c *compiler) pointerSlot(pl *place, off int64) (int, error) {
	c.derefs++
	if c.derefs > c.opts.MaxDerefs {
		return 0, notCompilable("more than %d pointers followed", c.opts.MaxDerefs)
	}
	if err := c.loadWord(pl, off, 8, false, asm0); err != nil {
		return 0, err
	}
	c.faultIf(jeqZero)
	return c.store(asm0)
}

// packageVar makes the operand of a package variable, at its run-time
// address in the traced process.
func (c *compiler) packageVar(full, name string) (*operand, bool, error) {
	pv, err := c.bi.LookupPackageVar(full)
	if err != nil {
		return nil, false, nil
	}
	typ, err := c.prog.Types.Type(pv.Type)
	if err != nil {
		return nil, true, notCompilable("type of %s: %v", full, err)
	}
	addr := pv.Addr - c.bi.Bias() + c.opts.Bias
	c.reads = append(c.reads, Read{Name: name, Where: fmt.Sprintf("%#x", addr)})
	return &operand{name: name, typ: typ, pl: &place{kind: inAbs, addr: addr}}, true, nil
}
