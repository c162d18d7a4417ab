package frame

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
)

// goCIE appends the CIE the Go linker writes and returns its offset.
func goCIE(s *sectionBuilder) uint64 {
	return s.cie(3, cieHeader3("", 1, -4, 16), cat([]byte{cfaDefCFA}, uleb(7), uleb(8), []byte{cfaOffsetExtended}, uleb(16), uleb(2)))
}

// TestParseErrors checks that malformed headers are reported with their
// kind and section offset.
func TestParseErrors(t *testing.T) {
	// Each build returns the section offset the error must name.
	cases := []struct {
		name  string
		eh    bool
		build func(s *sectionBuilder) uint64
		kind  error
	}{
		{"truncated length", false, func(s *sectionBuilder) uint64 { s.b = []byte{1, 2}; return 0 }, ErrTruncated},
		{"length past end", false, func(s *sectionBuilder) uint64 {
			goCIE(s)
			at := uint64(len(s.b))
			s.b = append(s.b, u32(100)...)
			s.b = append(s.b, 1, 2, 3)
			return at
		}, ErrTruncated},
		{"reserved length", false, func(s *sectionBuilder) uint64 { s.b = u32(0xfffffff5); return 0 }, ErrMalformed},
		{"CIE pointer outside section", false, func(s *sectionBuilder) uint64 {
			goCIE(s)
			return s.plainFDE(0x1000, 0x1000, 0x10, nil) + 4
		}, ErrMalformed},
		{"CIE pointer at an FDE", false, func(s *sectionBuilder) uint64 {
			c := goCIE(s)
			f := s.plainFDE(c, 0x1000, 0x10, nil)
			return s.plainFDE(f, 0x2000, 0x10, nil) + 4
		}, ErrMalformed},
		{"CIE version 2", false, func(s *sectionBuilder) uint64 {
			c := s.cie(2, cieHeader3("", 1, -4, 16), nil)
			s.plainFDE(c, 0x1000, 0x10, nil)
			return c + 8
		}, ErrUnsupported},
		{"unknown augmentation", false, func(s *sectionBuilder) uint64 {
			c := s.cie(3, cieHeader3("xyz", 1, -4, 16), nil)
			s.plainFDE(c, 0x1000, 0x10, nil)
			return c
		}, ErrUnsupported},
		{"range wraps", false, func(s *sectionBuilder) uint64 {
			c := goCIE(s)
			return s.plainFDE(c, ^uint64(0)-4, 0x10, nil)
		}, ErrMalformed},
		{"datarel FDE pointer", true, func(s *sectionBuilder) uint64 {
			c := s.cie(1, cat([]byte("zR\x00"), uleb(1), sleb(-8), []byte{16}, uleb(1), []byte{peDataRel | peSData4}), nil)
			return s.fde(c, func(uint64) []byte { return cat(u32(0x10), u32(0x10), uleb(0)) }) + 8
		}, ErrUnsupported},
		{"unterminated augmentation", false, func(s *sectionBuilder) uint64 {
			c := s.cie(3, []byte("zR"), nil)
			s.plainFDE(c, 0x1000, 0x10, nil)
			return c + 9
		}, ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &sectionBuilder{eh: c.eh}
			offset := c.build(s)
			_, err := Parse(s.b, binary.LittleEndian, 8, 0x1000, c.eh)
			var de *dwarfbuf.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, c.kind) || de.Offset != offset {
				t.Fatalf("Parse error = %v, want %v at offset %#x", err, c.kind, offset)
			}
		})
	}
}

// TestInstructionErrors checks that bad instructions do not stop Parse (it
// never reads them) and are reported by RulesAt at the instruction's offset.
func TestInstructionErrors(t *testing.T) {
	// The FDE follows the CIE; its instructions follow length, CIE pointer
	// and two 8-byte addresses.
	cs := &sectionBuilder{}
	goCIE(cs)
	insnStart := uint64(len(cs.b)) + 4 + 4 + 16
	deep := make([]byte, maxStateDepth+1)
	for i := range deep {
		deep[i] = cfaRememberState
	}
	cases := []struct {
		name   string
		insns  []byte
		kind   error
		offset uint64
	}{
		{"unknown opcode", []byte{cfaNop, 0x3f}, ErrUnsupported, insnStart + 1},
		{"restore_state underflow", []byte{cfaAdvanceLoc | 1, cfaRestoreState}, ErrMalformed, insnStart + 1},
		{"remember_state too deep", deep, ErrMalformed, insnStart + maxStateDepth},
		{"def_cfa_offset after expression", cat([]byte{cfaDefCFAExpression}, uleb(1), []byte{0x9c, cfaDefCFAOffset}, uleb(8)), ErrMalformed, insnStart + 3},
		{"truncated expression", cat([]byte{cfaExpression}, uleb(3), uleb(5), []byte{1}), ErrTruncated, insnStart + 3},
		{"truncated operand", []byte{cfaAdvanceLoc2, 1}, ErrTruncated, insnStart + 1},
		{"ULEB128 overflow", cat([]byte{cfaDefCFAOffset}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}), ErrMalformed, insnStart + 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &sectionBuilder{}
			cie := goCIE(s)
			s.plainFDE(cie, 0x1000, 0x100, c.insns)
			tab, err := Parse(s.b, binary.LittleEndian, 8, 0, false)
			if err != nil {
				t.Fatalf("Parse: %v (instructions must not be decoded by Parse)", err)
			}
			fde, err := tab.FDEForPC(0x1000)
			if err != nil {
				t.Fatal(err)
			}
			_, err = fde.RulesAt(0x10ff)
			var de *dwarfbuf.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, c.kind) || de.Offset != c.offset || de.Name != ".debug_frame" {
				t.Fatalf("RulesAt error = %v, want %v at .debug_frame offset %#x", err, c.kind, c.offset)
			}
		})
	}
}

// TestNoCFARule checks the error for an FDE whose rows never define a CFA.
func TestNoCFARule(t *testing.T) {
	s := &sectionBuilder{}
	cie := s.cie(3, cieHeader3("", 1, -4, 16), nil)
	fdeOff := s.plainFDE(cie, 0x1000, 0x10, nil)
	tab, err := Parse(s.b, binary.LittleEndian, 8, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	fde, _ := tab.FDEForPC(0x1000)
	_, err = fde.RulesAt(0x1000)
	var de *dwarfbuf.DecodeError
	if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) || de.Offset != fdeOff {
		t.Fatalf("RulesAt error = %v, want ErrMalformed at FDE offset %#x", err, fdeOff)
	}
}

// TestPaddingEntries checks that zero-length .debug_frame entries are
// skipped while in .eh_frame they end the section.
func TestPaddingEntries(t *testing.T) {
	for _, eh := range []bool{false, true} {
		s := &sectionBuilder{eh: eh}
		cie := goCIE(s)
		s.b = append(s.b, 0, 0, 0, 0)
		s.plainFDE(cie, 0x1000, 0x10, nil)
		tab, err := Parse(s.b, binary.LittleEndian, 8, 0, eh)
		want := 1 // .debug_frame: padding skipped
		if eh {
			want = 0 // .eh_frame: terminator ends the section
		}
		if err != nil {
			t.Fatalf("eh=%v: %v", eh, err)
		}
		if tab.Len() != want {
			t.Fatalf("eh=%v: %d FDEs, want %d", eh, tab.Len(), want)
		}
	}
}
