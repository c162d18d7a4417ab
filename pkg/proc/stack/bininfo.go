package stack

import (
	"encoding/binary"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/frame"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// New returns an unwinder for the executable bi describes. The CFI sections
// are read and indexed on the first unwind.
func New(bi *bininfo.BinaryInfo) *Unwinder {
	return NewUnwinder(binSymbols{bi}, bi.Bias, func() (CFI, error) { return loadCFI(bi) })
}

// binSymbols answers the unwinder's queries from a BinaryInfo.
type binSymbols struct{ bi *bininfo.BinaryInfo }

// FuncAt prefers the DWARF function; code without DWARF (C code of cgo
// binaries, some assembly) is named from the ELF symbol table.
func (s binSymbols) FuncAt(pc uint64) (Func, bool) {
	if fn := s.bi.PCToFunc(pc); fn != nil {
		return Func{Name: fn.Name, Entry: fn.Entry, End: fn.End}, true
	}
	if sym, ok := s.bi.SymbolAt(pc); ok && sym.Kind == bininfo.SymFunc {
		return Func{Name: sym.Name, Entry: sym.Addr, End: sym.Addr + sym.Size}, true
	}
	return Func{}, false
}

// LineAt returns the position of the code at pc.
func (s binSymbols) LineAt(pc uint64) (string, int, bool) {
	file, line, _ := s.bi.PCToLine(pc)
	return file, line, file != ""
}

// InlinedCallsAt converts bininfo's chain, which is already innermost first.
func (s binSymbols) InlinedCallsAt(pc uint64) []InlinedCall {
	calls := s.bi.InlinedCallsAt(pc)
	if len(calls) == 0 {
		return nil
	}
	out := make([]InlinedCall, len(calls))
	for i, c := range calls {
		out[i] = InlinedCall{Func: c.Func, CallFile: c.CallFile, CallLine: c.CallLine}
	}
	return out
}

// loadCFI indexes .debug_frame and, when present, .eh_frame. A missing
// section is not an error (unwinding falls back to frame pointers); a
// malformed one is.
func loadCFI(bi *bininfo.BinaryInfo) (CFI, error) {
	var cfi CFI
	for _, name := range []string{".debug_frame", ".eh_frame"} {
		var addr uint64
		if sec := bi.ELF().Section(name); sec != nil {
			// Only .eh_frame's PC-relative pointers need the address.
			addr = sec.Addr
		} else if name == ".eh_frame" {
			continue
		}
		data, err := bi.Section(name)
		if err != nil {
			if name == ".debug_frame" && bi.ELF().Section(".zdebug_frame") == nil {
				continue
			}
			return CFI{}, fmt.Errorf("reading %s: %w", name, err)
		}
		t, err := frame.Parse(data, binary.LittleEndian, bi.PtrSize(), addr, name == ".eh_frame")
		if err != nil {
			return CFI{}, fmt.Errorf("parsing %s: %w", name, err)
		}
		if name == ".eh_frame" {
			cfi.EHFrame = t
		} else {
			cfi.DebugFrame = t
		}
	}
	return cfi, nil
}
