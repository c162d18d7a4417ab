package frame

import (
	"encoding/binary"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse and, when they parse, looks up
// and interprets every FDE: malformed input must yield errors, never panics.
// Seeds live in testdata/fuzz/FuzzParse; run with
// `go test -fuzz=FuzzParse ./pkg/dwarf/frame`.
func FuzzParse(f *testing.F) {
	f.Add(allOpcodesSection(false), byte(0))
	f.Add(allOpcodesSection(true), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, flags byte) {
		eh := flags&1 != 0
		ptrSize := 8
		if flags&2 != 0 {
			ptrSize = 4
		}
		var order binary.ByteOrder = binary.LittleEndian
		if flags&4 != 0 {
			order = binary.BigEndian
		}
		tab, err := Parse(data, order, ptrSize, 0x1000, eh)
		if err != nil {
			return
		}
		for i := 0; i < tab.Len() && i < 64; i++ {
			fde := tab.FDE(i)
			for _, pc := range []uint64{fde.Begin(), fde.Begin() + (fde.End()-fde.Begin())/2, fde.End() - 1} {
				got, err := tab.FDEForPC(pc)
				if err != nil {
					t.Fatalf("FDEForPC(%#x) inside FDE %d [%#x,%#x): %v", pc, i, fde.Begin(), fde.End(), err)
				}
				if !got.Contains(pc) {
					t.Fatalf("FDEForPC(%#x) returned [%#x,%#x)", pc, got.Begin(), got.End())
				}
				if r, err := got.RulesAt(pc); err == nil && r.Loc > pc {
					t.Fatalf("row for %#x starts later, at %#x", pc, r.Loc)
				}
			}
		}
	})
}
