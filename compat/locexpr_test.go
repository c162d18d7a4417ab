package compat

import "testing"

// TestParityLocationExpr: whatis with show-location-expr prints each
// variable's DWARF location as Delve does: a register of a location list
// entry at the PC, a frame-base offset and a package variable's address
// as single expressions, an escaped variable's heap pointer slot, and
// nothing for a field selection or for a captured variable read from
// the closure context.
func TestParityLocationExpr(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		script  []string
		want    []string
	}{
		{"basic", []string{
			"config show-location-expr true",
			"break main.add",
			"continue",
			"whatis a",
			"whatis b",
			"up",
			"whatis p",
			"whatis p.X",
			"whatis counter",
			"whatis main.counter",
			"quit",
		}, []string{
			"location: [0xADDR:0xADDR] DW_OP_reg0(Rax) ",
			"location: [0xADDR:0xADDR] DW_OP_reg3(Rbx) ",
			"location: [block] DW_OP_fbreg -0xADDR ",
			"location: [block] DW_OP_addr 0xADDR ",
		}},
		{"closures", []string{
			"config show-location-expr true",
			"break main.go:7",
			"break main.go:6",
			"break main.go:8",
			"continue",
			"whatis n",
			"whatis start",
			"continue",
			"whatis n",
			"continue",
			"whatis n",
			"continue",
			"whatis n",
			"frame 1 whatis c",
			"quit",
		}, []string{
			"location: [block] DW_OP_fbreg -0xADDR  (escaped)",
			"location: [0xADDR:0xADDR] DW_OP_call_frame_cfa ",
			// A line holding a closure: both functions' addresses, as
			// Delve names it when its terminal sends the expression.
			"Breakpoint 1 set at 0xADDR,0xADDR for (multiple functions)() SRC/main.go:7",
		}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			terminals(t, func(t *testing.T, repl bool) {
				got, delve := runBoth(t, paritySession{fixture: tc.fixture, repl: repl, script: tc.script})
				requireLines(t, got, tc.want...)
				sameTranscripts(t, got, delve)
			})
		})
	}
}
