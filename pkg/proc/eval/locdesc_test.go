package eval

import "testing"

// TestDelveOps: expressions as Delve's api.Variable.LocationExpr spells
// them (one space after each operation and operand, operands in hex,
// registers named).
func TestDelveOps(t *testing.T) {
	for _, tc := range []struct {
		expr []byte
		want string
	}{
		{[]byte{0x91, 0x68}, "DW_OP_fbreg -0x18 "},    // fbreg -24
		{[]byte{0x50}, "DW_OP_reg0(Rax) "},            // reg0
		{[]byte{0x77, 0x08}, "DW_OP_breg7(Rsp) 0x8 "}, // breg7 +8
		{[]byte{0x61, 0x93, 0x08, 0x53, 0x93, 0x08}, "DW_OP_reg17(XMM0) DW_OP_piece 0x8 DW_OP_reg3(Rbx) DW_OP_piece 0x8 "},
		{[]byte{0x9c}, "DW_OP_call_frame_cfa "},
		{[]byte{0x03, 0x48, 0x76, 0x58, 0, 0, 0, 0, 0}, "DW_OP_addr 0x587648 "},
		{[]byte{0x58}, "DW_OP_reg8(R8) "},
	} {
		if got := delveOps(tc.expr); got != tc.want {
			t.Errorf("% x: %q, want %q", tc.expr, got, tc.want)
		}
	}
}
