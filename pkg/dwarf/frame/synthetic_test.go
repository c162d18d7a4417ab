package frame

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// cieHeader3 encodes the CIE fields after the version byte for versions 1-3:
// augmentation, code alignment ca, data alignment da and return column ra.
func cieHeader3(aug string, ca uint64, da int64, ra uint64) []byte {
	return cat([]byte(aug), []byte{0}, uleb(ca), sleb(da), uleb(ra))
}

// allOpcodesSection builds a .debug_frame (CIE version 4, code alignment 4,
// data alignment -8) whose single FDE uses every DW_CFA instruction.
func allOpcodesSection(dwarf64 bool) []byte {
	s := &sectionBuilder{dwarf64: dwarf64}
	cie := s.cie(4, cat([]byte{0}, []byte{8, 0}, uleb(4), sleb(-8), uleb(16)), cat(
		[]byte{cfaDefCFA}, uleb(7), uleb(8), // CFA = rsp+8
		[]byte{cfaOffset | 16}, uleb(1), // ra at CFA-8
		[]byte{cfaSameValue}, uleb(3), // rbx unchanged
	))
	s.plainFDE(cie, 0x1000, 0x1000, cat(
		[]byte{cfaAdvanceLoc | 1},         // 0x1004
		[]byte{cfaDefCFAOffset}, uleb(16), // rsp+16
		[]byte{cfaOffset | 6}, uleb(2), // rbp at CFA-16
		[]byte{cfaAdvanceLoc1, 2},          // 0x100c
		[]byte{cfaDefCFARegister}, uleb(6), // rbp+16
		[]byte{cfaRegister}, uleb(12), uleb(13), // r12 lives in r13
		[]byte{cfaAdvanceLoc2}, u16(4), // 0x101c
		[]byte{cfaRememberState},               //
		[]byte{cfaDefCFASF}, uleb(7), sleb(-4), // rsp+32
		[]byte{cfaValOffset}, uleb(14), uleb(3), // r14 = CFA-24
		[]byte{cfaValOffsetSF}, uleb(13), sleb(-1), // r13 = CFA+8
		[]byte{cfaAdvanceLoc4}, u32(1), // 0x1020
		[]byte{cfaRestoreState},                      // back to the 0x100c row
		[]byte{cfaOffsetExtended}, uleb(17), uleb(3), // xmm0 at CFA-24
		[]byte{cfaOffsetExtendedSF}, uleb(18), sleb(-2), // xmm1 at CFA+16
		[]byte{cfaGNUNegOffsetExtend}, uleb(19), uleb(1), // xmm2 at CFA+8
		[]byte{cfaSetLoc}, u64(0x1030), // 0x1030
		[]byte{cfaExpression}, uleb(20), uleb(2), []byte{0x70, 0x08}, // xmm3 at [rax+8]
		[]byte{cfaValExpression}, uleb(21), uleb(2), []byte{0x71, 0x10}, // xmm4 = rdx+16
		[]byte{cfaDefCFAOffsetSF}, sleb(-6), // rbp+48
		[]byte{cfaUndefined}, uleb(3), // rbx lost
		[]byte{cfaRestore | 6}, // rbp: no initial rule
		[]byte{cfaGNUArgsSize}, uleb(32),
		[]byte{cfaMIPSAdvanceLoc8}, u64(4), // 0x1040
		[]byte{cfaDefCFAExpression}, uleb(2), []byte{0x77, 0x08}, // CFA = rsp+8 via DW_OP_breg7
		[]byte{cfaRestoreExtended}, uleb(3), // rbx back to same_value
		[]byte{cfaOffset | 16}, uleb(2), // ra moved...
		[]byte{cfaRestore | 16}, // ...and restored to CFA-8
		[]byte{cfaNop, cfaGNUWindowSave, cfaNop},
	))
	return s.b
}

func TestAllOpcodes(t *testing.T) {
	ra := Rule{Kind: RuleOffset, Offset: -8}
	same := Rule{Kind: RuleSameValue}
	rowA := map[uint64]Rule{16: ra, 3: same}
	rowB := map[uint64]Rule{16: ra, 3: same, 6: {Kind: RuleOffset, Offset: -16}}
	rowC := map[uint64]Rule{16: ra, 3: same, 6: {Kind: RuleOffset, Offset: -16}, 12: {Kind: RuleRegister, Reg: 13}}
	rowD := map[uint64]Rule{16: ra, 3: same, 6: {Kind: RuleOffset, Offset: -16}, 12: {Kind: RuleRegister, Reg: 13},
		14: {Kind: RuleValOffset, Offset: -24}, 13: {Kind: RuleValOffset, Offset: 8}}
	rowE := map[uint64]Rule{16: ra, 3: same, 6: {Kind: RuleOffset, Offset: -16}, 12: {Kind: RuleRegister, Reg: 13},
		17: {Kind: RuleOffset, Offset: -24}, 18: {Kind: RuleOffset, Offset: 16}, 19: {Kind: RuleOffset, Offset: 8}}
	rowF := map[uint64]Rule{16: ra, 3: {Kind: RuleUndefined}, 12: {Kind: RuleRegister, Reg: 13},
		17: {Kind: RuleOffset, Offset: -24}, 18: {Kind: RuleOffset, Offset: 16}, 19: {Kind: RuleOffset, Offset: 8},
		20: {Kind: RuleExpression, Expr: []byte{0x70, 0x08}}, 21: {Kind: RuleValExpression, Expr: []byte{0x71, 0x10}}}
	rowG := map[uint64]Rule{16: ra, 3: same, 12: {Kind: RuleRegister, Reg: 13},
		17: {Kind: RuleOffset, Offset: -24}, 18: {Kind: RuleOffset, Offset: 16}, 19: {Kind: RuleOffset, Offset: 8},
		20: {Kind: RuleExpression, Expr: []byte{0x70, 0x08}}, 21: {Kind: RuleValExpression, Expr: []byte{0x71, 0x10}}}
	cases := []struct {
		pc, loc uint64
		cfa     CFARule
		regs    map[uint64]Rule
		args    uint64
	}{
		{0x1000, 0x1000, CFARule{Reg: 7, Offset: 8}, rowA, 0},
		{0x1003, 0x1000, CFARule{Reg: 7, Offset: 8}, rowA, 0},
		{0x1004, 0x1004, CFARule{Reg: 7, Offset: 16}, rowB, 0},
		{0x100c, 0x100c, CFARule{Reg: 6, Offset: 16}, rowC, 0},
		{0x101c, 0x101c, CFARule{Reg: 7, Offset: 32}, rowD, 0},
		{0x101f, 0x101c, CFARule{Reg: 7, Offset: 32}, rowD, 0},
		{0x1020, 0x1020, CFARule{Reg: 6, Offset: 16}, rowE, 0},
		{0x1030, 0x1030, CFARule{Reg: 6, Offset: 48}, rowF, 32},
		{0x1040, 0x1040, CFARule{Expr: []byte{0x77, 0x08}}, rowG, 32},
		{0x1fff, 0x1040, CFARule{Expr: []byte{0x77, 0x08}}, rowG, 32},
	}
	for _, dwarf64 := range []bool{false, true} {
		tab, err := Parse(allOpcodesSection(dwarf64), binary.LittleEndian, 8, 0, false)
		if err != nil {
			t.Fatalf("dwarf64=%v: %v", dwarf64, err)
		}
		if tab.Len() != 1 {
			t.Fatalf("dwarf64=%v: %d FDEs, want 1", dwarf64, tab.Len())
		}
		for _, c := range cases {
			r := rulesAt(t, tab, c.pc)
			want := &Rules{Loc: c.loc, CFA: c.cfa, Regs: c.regs, RetAddrReg: 16, ArgsSize: c.args}
			if !reflect.DeepEqual(r, want) {
				t.Errorf("dwarf64=%v pc %#x:\n got %+v\nwant %+v", dwarf64, c.pc, r, want)
			}
		}
	}
}

// TestEHFrameEncodings covers augmentations and pointer encodings of
// .eh_frame: "zPLR" with an LSDA, signal frames, absolute udata8 and aligned
// pointers, version-1 CIEs and set_loc with a PC-relative operand.
func TestEHFrameEncodings(t *testing.T) {
	const secAddr = 0x40000
	s := &sectionBuilder{eh: true}
	initial := cat([]byte{cfaDefCFA}, uleb(7), uleb(8), []byte{cfaOffset | 16}, uleb(1))

	// CIE 1: "zPLR", personality indirect|pcrel|sdata4, LSDA pcrel|sdata4, FDE pcrel|sdata4.
	cie1 := s.cie(1, cat([]byte("zPLR\x00"), uleb(1), sleb(-8), []byte{16},
		uleb(7), []byte{0x9b}, u32(0x1234), []byte{0x1b}, []byte{0x1b}), initial)
	fde1 := s.fde(cie1, func(pos uint64) []byte {
		// initial location: pcrel from the field at pos, so 0x1000 means secAddr+pos+0x1000.
		return cat(u32(0x1000), u32(0x20), uleb(4), u32(0xdead),
			[]byte{cfaSetLoc}, u32(uint32(0x1000+0x10-(4+4+1+4+1))), // pcrel operand resolving to begin+0x10
			[]byte{cfaDefCFAOffset}, uleb(64))
	})
	fde1Begin := secAddr + fde1 + 8 + 0x1000

	// CIE 2: "zRS", absolute udata8 FDE pointers, version 3.
	cie2 := s.cie(3, cat([]byte("zRS\x00"), uleb(1), sleb(-8), uleb(16), uleb(1), []byte{peUData8}), initial)
	s.fde(cie2, func(uint64) []byte { return cat(u64(0x90000), u64(0x40), uleb(0)) })

	// CIE 3: "zR" with aligned absolute pointers.
	cie3 := s.cie(3, cat([]byte("zR\x00"), uleb(1), sleb(-8), uleb(16), uleb(1), []byte{peAligned}), initial)
	s.fde(cie3, func(pos uint64) []byte {
		pad := (8 - (secAddr+pos)%8) % 8
		return cat(make([]byte, pad), u64(0xa0000), u64(0x10), uleb(0))
	})
	s.b = append(s.b, 0, 0, 0, 0) // terminator
	s.b = append(s.b, 0xde, 0xad) // garbage after the terminator is ignored

	tab, err := Parse(s.b, binary.LittleEndian, 8, secAddr, true)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 3 {
		t.Fatalf("%d FDEs, want 3", tab.Len())
	}
	fde, err := tab.FDEForPC(fde1Begin)
	if err != nil {
		t.Fatal(err)
	}
	c := fde.CIE
	if fde.Begin() != fde1Begin || fde.End() != fde1Begin+0x20 || c.Version != 1 || c.RetAddrReg != 16 || c.LSDAEncoding != 0x1b || c.FDEEncoding != 0x1b || c.SignalFrame {
		t.Errorf("FDE [%#x,%#x) CIE %+v", fde.Begin(), fde.End(), c)
	}
	if r := rulesAt(t, tab, fde1Begin+0xf); r.CFA.Offset != 8 {
		t.Errorf("before set_loc: CFA %+v, want rsp+8", r.CFA)
	}
	if r := rulesAt(t, tab, fde1Begin+0x10); r.CFA.Offset != 64 || r.Loc != fde1Begin+0x10 {
		t.Errorf("after set_loc: row at %#x CFA %+v, want rsp+64 from %#x", r.Loc, r.CFA, fde1Begin+0x10)
	}
	fde, err = tab.FDEForPC(0x9003f)
	if err != nil || fde.Begin() != 0x90000 || !fde.CIE.SignalFrame {
		t.Errorf("udata8 FDE: %v, %+v", err, fde)
	}
	fde, err = tab.FDEForPC(0xa0000)
	if err != nil || fde.End() != 0xa0010 {
		t.Errorf("aligned FDE: %v, %+v", err, fde)
	}
	if _, err := tab.FDEForPC(0x90040); !errors.Is(err, ErrNoFDE) {
		t.Errorf("past the udata8 FDE: %v, want ErrNoFDE", err)
	}
}

// TestUnsortedFDEs checks that out-of-order FDEs are still found.
func TestUnsortedFDEs(t *testing.T) {
	s := &sectionBuilder{}
	cie := s.cie(3, cieHeader3("", 1, -4, 16), cat([]byte{cfaDefCFA}, uleb(7), uleb(8)))
	for _, begin := range []uint64{0x3000, 0x1000, 0x2000, 0x500} {
		s.plainFDE(cie, begin, 0x100, cat([]byte{cfaDefCFAOffset}, uleb(begin)))
	}
	s.plainFDE(cie, 0x4000, 0, nil) // empty range: not indexed
	// A nested pair: lookups after the inner one must find the outer one.
	s.plainFDE(cie, 0x5000, 0x1000, cat([]byte{cfaDefCFAOffset}, uleb(0x5000)))
	s.plainFDE(cie, 0x5100, 0x100, cat([]byte{cfaDefCFAOffset}, uleb(0x5100)))
	tab, err := Parse(s.b, binary.LittleEndian, 8, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 6 {
		t.Fatalf("%d FDEs indexed, want 6", tab.Len())
	}
	for pc, want := range map[uint64]int64{0x5000: 0x5000, 0x5100: 0x5100, 0x51ff: 0x5100, 0x5200: 0x5000, 0x5fff: 0x5000} {
		if r := rulesAt(t, tab, pc); r.CFA.Offset != want {
			t.Errorf("nested FDEs, pc %#x: CFA offset %#x, want %#x", pc, r.CFA.Offset, want)
		}
	}
	for _, begin := range []uint64{0x500, 0x1000, 0x2000, 0x3000} {
		if r := rulesAt(t, tab, begin+0xff); r.CFA.Offset != int64(begin) {
			t.Errorf("pc %#x: CFA offset %d, want %d", begin+0xff, r.CFA.Offset, begin)
		}
		if _, err := tab.FDEForPC(begin + 0x100); !errors.Is(err, ErrNoFDE) {
			t.Errorf("pc %#x: %v, want ErrNoFDE", begin+0x100, err)
		}
	}
}
