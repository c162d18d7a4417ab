package eval_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

func TestSetVariable(t *testing.T) {
	s := start(t, "scopes", fixture.Flavour{})
	s.cont()
	sc := s.scope("main.useGlobals")
	for _, c := range []struct{ lhs, rhs, check, want string }{
		{"mutable", "42", "mutable", "42"},
		{"mutable", "mutable * 2 + counter", "mutable", "91"},
		{"mutFloat", "1.25", "mutFloat", "1.25"},
		{"mutBool", "counter == 7", "mutBool", "true"},
		{"mutPtr", "nil", "mutPtr", "*main.Point nil"},
		{"mutPtr", "&pt", "mutPtr.X", "3"},
		{"pt.Y", "-1", "pt", "main.Point {X: 3, Y: -1}"},
		{"nums[0]", "7", "nums[0:2]", "[]int len: 2, cap: 5, [7,20]"},
	} {
		if err := sc.SetVariable(c.lhs, c.rhs); err != nil {
			t.Errorf("set %s = %s: %v", c.lhs, c.rhs, err)
			continue
		}
		expr(t, s.scope("main.useGlobals"), c.check, c.want)
	}
	for _, c := range []struct{ lhs, rhs, msg string }{
		{"greeting", `"x"`, "can not set variables of type string (only numbers, bools and pointers)"},
		{"mutable", "1.5", "can not convert 1.5 constant to int"},
		{"mutable", "small", "can not assign int8 to int"},
		{"mutPtr", "&counter", "can not assign *int to *main.Point"},
		{"1", "2", "can not set 1: not a variable"},
		{"mutable", "nope", "could not find symbol value for nope"},
	} {
		err := sc.SetVariable(c.lhs, c.rhs)
		if err == nil || err.Error() != c.msg {
			t.Errorf("set %s = %s: error %v, want %q", c.lhs, c.rhs, err, c.msg)
		}
	}
}

// TestSetRegisterVariable changes an argument that lives in a register at
// the entry of an optimized function, and reads it back from the thread.
func TestSetRegisterVariable(t *testing.T) {
	s := start(t, "scopes", fixture.Flavour{Optimized: true})
	if _, err := s.tg.SetBreakpointFunc("main.regArgs"); err != nil {
		t.Fatal(err)
	}
	for s.cont().Function != "main.regArgs" {
	}
	sc := s.scope("main.regArgs")
	expr(t, sc, "n", "1")
	if err := sc.SetVariable("n", "n + 99"); err != nil {
		t.Fatalf("set n: %v", err)
	}
	expr(t, s.scope("main.regArgs"), "n", "100")
	expr(t, s.scope("main.regArgs"), "RAX", "100")
}
