package probe

import (
	"debug/dwarf"
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/loclist"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// locator turns a variable's DWARF location at one PC into a Location a
// probe can capture without evaluating DWARF at run time: registers, or
// one run of stack bytes at CFA+offset, or pieces of both. Anything else
// (a constant, a piece in memory off the stack, a piece optimized away) is
// refused with the reason, so the value is reported unavailable, never
// guessed.
type locator struct {
	bi *bininfo.BinaryInfo
	cu *bininfo.CompileUnit
}

func newLocator(bi *bininfo.BinaryInfo, cu *bininfo.CompileUnit) *locator {
	return &locator{bi: bi, cu: cu}
}

// cfaMark stands for the CFA while classifying an expression: any address
// near it is CFA-relative.
const cfaMark = 1 << 44

// at returns the location of variable entry e at run-time pc.
func (l *locator) at(e *dwarf.Entry, pc uint64, size int64) (Location, error) {
	expr, err := l.expr(e, pc)
	if err != nil {
		return Location{}, err
	}
	return LocationOfExpr(expr, size)
}

// fromDWARF converts an evaluated location (with the CFA at cfaMark).
func fromDWARF(loc op.Location, size int64) (Location, error) {
	stackOff := func(addr uint64) (int64, bool) {
		d := int64(addr - cfaMark)
		return d, d > -1<<20 && d < 1<<20
	}
	if loc.IsAddr {
		off, ok := stackOff(loc.Addr)
		if !ok {
			return Location{}, errors.New("location not capturable: not on the stack")
		}
		return Location{StackOff: off}, nil
	}
	var out Location
	var at int64
	run := true // every piece so far is memory continuing the previous one
	for i, p := range loc.Pieces {
		n := int64(p.Size)
		if n == 0 {
			n = size
		}
		switch p.Kind {
		case op.UndefinedPiece:
			return Location{}, errOptimizedOut
		case op.MemoryPiece:
			off, ok := stackOff(p.Addr)
			if !ok {
				return Location{}, errors.New("location not capturable: a piece is not on the stack")
			}
			if i == 0 {
				out.StackOff = off
			}
			run = run && off == out.StackOff+at
			out.Pieces = append(out.Pieces, Piece{Stack: true, Off: at, Size: n, StackOff: off})
		case op.RegisterPiece:
			switch {
			case p.Offset != 0:
				return Location{}, errors.New("location not capturable: part of a register")
			case n > 8 && !regnum.IsXmm(p.Reg):
				// The compiler names one register for a wider value.
				return Location{}, fmt.Errorf("location not capturable: %d bytes in one register", n)
			}
			run = false
			pc := Piece{Off: at, Size: n}
			if regnum.IsXmm(p.Reg) {
				pc.Float, pc.Reg = true, int(p.Reg-regnum.Xmm0)
			} else if pc.Reg = generalIndex(p.Reg); pc.Reg < 0 {
				return Location{}, fmt.Errorf("location not capturable: in register %s", regnum.Name(int(p.Reg)))
			}
			out.Pieces = append(out.Pieces, pc)
		default:
			return Location{}, errors.New("location not capturable: a computed value")
		}
		at += n
	}
	if at < size {
		return Location{}, errOptimizedOut
	}
	if run {
		// One run of stack bytes, however DWARF cut it.
		return Location{StackOff: out.StackOff}, nil
	}
	// Pieces in registers and on the stack, each read from where it is.
	out.InRegs = true
	return out, nil
}

// generalIndex maps a DWARF register number to its index in GeneralRegs.
func generalIndex(n uint64) int {
	byDwarf := map[uint64]int{regnum.Rax: 0, regnum.Rbx: 1, regnum.Rcx: 2, regnum.Rdi: 3, regnum.Rsi: 4,
		regnum.R8: 5, regnum.R9: 6, regnum.R10: 7, regnum.R11: 8, regnum.Rdx: 9, regnum.Rbp: 10,
		regnum.R12: 11, regnum.R13: 12, regnum.R14: 13, regnum.R15: 14, regnum.Rsp: 15}
	if i, ok := byDwarf[n]; ok {
		return i
	}
	return -1
}

// noMemory refuses reads: a probe's plan is built before the program runs.
type noMemory struct{}

func (noMemory) ReadMemory([]byte, uint64) (int, error) {
	return 0, errors.New("memory is not known when the probe is planned")
}

// expr returns e's location expression at pc: its DW_AT_location, or the
// entry of its location list that covers pc.
func (l *locator) expr(e *dwarf.Entry, pc uint64) ([]byte, error) {
	f := e.AttrField(dwarf.AttrLocation)
	if f == nil {
		return nil, errOptimizedOut
	}
	var off int64
	switch f.Class {
	case dwarf.ClassExprLoc, dwarf.ClassBlock:
		expr, _ := f.Val.([]byte)
		if len(expr) == 0 {
			return nil, errOptimizedOut
		}
		return expr, nil
	case dwarf.ClassLocListPtr:
		off, _ = f.Val.(int64)
	case dwarf.ClassLocList:
		idx, _ := f.Val.(uint64)
		r, err := l.dwarf5()
		if err != nil {
			return nil, err
		}
		if off, err = r.OffsetOfIndex(l.cu.LoclistsBase, idx); err != nil {
			return nil, fmt.Errorf("location list index %d: %w", idx, err)
		}
	default:
		return nil, fmt.Errorf("unsupported location class %v", f.Class)
	}
	var r loclist.Reader
	if l.cu.Version >= 5 {
		r5, err := l.dwarf5()
		if err != nil {
			return nil, err
		}
		r = r5
	} else {
		b, err := l.bi.Section(".debug_loc")
		if err != nil {
			return nil, fmt.Errorf("reading .debug_loc: %w", err)
		}
		r = loclist.NewDwarf4Reader(b, l.bi.PtrSize())
	}
	bias := l.bi.Bias()
	u := loclist.Unit{StaticBase: bias, Base: l.cu.LowPC() - bias, AddrBase: l.cu.AddrBase}
	expr, err := r.Find(off, u, pc)
	if err != nil {
		return nil, fmt.Errorf("reading location list at %#x: %w", off, err)
	}
	if len(expr) == 0 {
		return nil, errOptimizedOut
	}
	return expr, nil
}

func (l *locator) dwarf5() (*loclist.Dwarf5Reader, error) {
	b, err := l.bi.Section(".debug_loclists")
	if err != nil {
		return nil, fmt.Errorf("reading .debug_loclists: %w", err)
	}
	addr, _ := l.bi.Section(".debug_addr")
	return loclist.NewDwarf5Reader(b, addr, l.bi.PtrSize()), nil
}
