package eval_test

import (
	"reflect"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// TestUntypedConstantsExact checks that untyped integer constants print
// exactly, beyond 64 bits, as Go computes them and as Delve 1.27.2 prints
// them; in a typed context they take the type's width, as Delve does.
func TestUntypedConstantsExact(t *testing.T) {
	for _, fl := range fixture.Flavours {
		t.Run(fl.Name(), func(t *testing.T) {
			sc := stopIn(t, "truth", fl, "main.capture")
			for _, c := range [][2]string{
				{"1 << 63", "9223372036854775808"},
				{"-1 << 70", "-1180591620717411303424"},
				{"1<<100 / 3", "422550200076076467165567735125"},
				{"(1<<64) >> 1", "9223372036854775808"},
				{"'a' << 60", "111833385946864156672"},
				{"1<<63 - 1", "9223372036854775807"},
				{"-(1<<63)", "-9223372036854775808"},
				{"uint64(1<<63)", "9223372036854775808"},
				{"int64(1<<63)", "-9223372036854775808"},
				{"1<<63 == 1<<63", "true"},
			} {
				expr(t, sc, c[0], c[1])
			}
			for e, kind := range map[string]reflect.Kind{"1 << 63": reflect.Uint64, "-1 << 70": reflect.Int, "7": reflect.Int} {
				if v, err := sc.Eval(e, value.DefaultLoadConfig); err != nil {
					t.Errorf("print %s: %v", e, err)
				} else if v.Kind != kind {
					t.Errorf("kind of %s: %v, want %v", e, v.Kind, kind)
				}
			}
		})
	}
}

// TestNamedConstants evaluates the program's constants by name, as Delve
// 1.27.2 does: a constant prints as its number (Delve does not describe a
// constant by itself), and a value computed from constants is described
// like any value of its type (main.Level's single-bit Mid and High make 3
// "Mid|High"). A type is named by its package's last path element.
func TestNamedConstants(t *testing.T) {
	for _, fl := range fixture.Flavours {
		t.Run(fl.Name(), func(t *testing.T) {
			sc := stopIn(t, "truth", fl, "main.capture")
			for _, c := range [][2]string{
				{"main.High", "2"},
				{"High", "2"},
				{"main.ReadWrite", "3"},
				{"flags.Read", "1"},
				{"flags.Exec | flags.Read", "Read|Exec (5)"},
				{"main.High + 1", "Mid|High (3)"},
				{"main.gLevel == main.High", "true"},
				{"flags.Perm(3)", "main.ReadWrite (3)"},
				{"flags.Perm(7)", "Read|Write|Exec (7)"},
			} {
				expr(t, sc, c[0], c[1])
			}
			if v, err := sc.Eval("main.High", value.DefaultLoadConfig); err != nil || v.Type != "main.Level" || v.Kind != reflect.Int {
				t.Errorf("main.High: %+v %v", v, err)
			}
		})
	}
}

// stopIn runs fixture name to the first call of fn and returns its scope.
func stopIn(t *testing.T, name string, fl fixture.Flavour, fn string) *eval.Scope {
	t.Helper()
	s := start(t, name, fl)
	if _, err := s.tg.SetBreakpointFunc(fn); err != nil {
		t.Fatal(err)
	}
	s.cont()
	return s.scope(fn)
}
