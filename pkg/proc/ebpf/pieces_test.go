package ebpf

import (
	"testing"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// A string whose pointer is in RAX and whose length is in the caller's
// frame at CFA-96 (net/http's inlined (*mapping).find in matchPath): the
// value operation takes the register from pt_regs and the length from the
// stack at SP+8 plus the shifted offset, and the string's bytes are
// followed from the assembled value.
func TestPlanReadsEachPieceWhereItLives(t *testing.T) {
	str := &godwarf.StringType{StructType: godwarf.StructType{CommonType: godwarf.CommonType{Name: "string", ByteSize: 16}}}
	loc := probe.Location{InRegs: true, Pieces: []probe.Piece{{Reg: 0, Off: 0, Size: 8}, {Stack: true, Off: 8, Size: 8, StackOff: -96}}}
	// At the copy's entry CFA = SP + 56: the probe reads SP+8+(-96+56-8).
	shifted := loc.Shift(56 - 8)
	if loc.Pieces[1].StackOff != -96 || shifted.Pieces[1].StackOff != -48 || shifted.String() != "RAX+stack+-48" {
		t.Fatalf("shift: %s from %s", shifted, loc)
	}
	plan := buildPlan([]probe.Param{{Name: "k", Type: str}}, []probe.Location{shifted}, DefaultOptions)
	if plan.params[0].unavailable != "" || plan.bpf.NOps != 2 {
		t.Fatalf("plan: %+v, %d ops", plan.params[0], plan.bpf.NOps)
	}
	v, d := plan.bpf.Ops[0], plan.bpf.Ops[1]
	if v.Kind != opRegs || v.NPieces != 2 || v.Size != 16 ||
		v.Regs[0] != abiIntRegSlots[0] || v.PieceOff[0] != 0 || v.PieceSize[0] != 8 ||
		v.Regs[1] != pieceStack || v.PieceStack[1] != -48 || v.PieceOff[1] != 8 || v.PieceSize[1] != 8 {
		t.Fatalf("value operation %+v", v)
	}
	if d.Kind != opDeref || d.Src != 0 || d.PtrOff != 0 || d.LenOff != 8 {
		t.Fatalf("deref operation %+v", d)
	}
	far := probe.Location{InRegs: true, Pieces: []probe.Piece{{Reg: 0, Size: 8}, {Stack: true, Off: 8, Size: 8, StackOff: 1 << 16}}}
	if p := buildPlan([]probe.Param{{Name: "k", Type: str}}, []probe.Location{far}, DefaultOptions); p.params[0].unavailable == "" {
		t.Fatal("a stack piece beyond an int16 offset was planned")
	}
}
