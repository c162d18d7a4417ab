package probe

import (
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
)

// LocationOfExpr turns a variable's DWARF location expression, the one
// that holds at a probe's PC, into a Location relative to the CFA there,
// with the same refusals as an inlined copy's arguments get: a probe
// captures registers and stack bytes, nothing computed.
func LocationOfExpr(expr []byte, size int64) (Location, error) {
	regs := op.NewDwarfRegisters(nil, nil)
	regs.CFA, regs.FrameBase = cfaMark, cfaMark
	loc, err := op.Execute(expr, regs, noMemory{}, 8)
	if err != nil {
		return Location{}, fmt.Errorf("location not capturable: %w", err)
	}
	return fromDWARF(loc, size)
}

// CFAOffset returns CFA-SP at the link-time address pc: where a probe at
// pc finds the frame that stack locations are relative to.
func (f *Frames) CFAOffset(pc uint64) (int64, error) {
	return f.cfaOffset(pc)
}
