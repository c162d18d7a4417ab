package op

import (
	"errors"
	"testing"
)

// FuzzExecute checks that arbitrary bytes never panic or hang the
// evaluator or the disassembler, and that every failure is a typed *Error.
// Seeds live in testdata/fuzz/FuzzExecute (real Go and gcc expressions plus
// malformed ones).
func FuzzExecute(f *testing.F) {
	f.Add([]byte{byte(DW_OP_fbreg), 0x68})
	f.Fuzz(func(t *testing.T, expr []byte) {
		_ = Disassemble(expr)
		mem := fakeMem{0xc000_0200: 0xc000_0100, 0xc000_0100: 42}
		loc, err := Execute(expr, testRegs(), mem, 8)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Execute(% x) error %v is not an *op.Error", expr, err)
			}
			return
		}
		if !loc.IsAddr && len(loc.Pieces) == 0 {
			t.Fatalf("Execute(% x) returned neither an address nor pieces", expr)
		}
		_, _ = loc.Bytes(16, testRegs(), mem)
	})
}
