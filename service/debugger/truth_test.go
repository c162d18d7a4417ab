package debugger_test

import (
	"reflect"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
)

// TestConstantNamesOnEveryPath checks that vars and print name a value by
// its constant as Delve 1.27.2 does ("main.gPerm = main.ReadWrite (3)"):
// flags.Perm's combined constant ReadWrite is declared by main, not by
// flags, and wins over the bit-or Read|Write; a bit set with no constant
// is the bit-or; vars shows main.Level's name as print does.
func TestConstantNamesOnEveryPath(t *testing.T) {
	want := map[string]string{"main.gPerm": "main.ReadWrite (3)", "main.gBits": "Read|Exec (5)", "main.gLevel": "High (2)"}
	for _, fl := range fixture.Flavours {
		t.Run(fl.Name(), func(t *testing.T) {
			d := launch(t, "truth", fl)
			if _, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.capture"}, ""); err != nil {
				t.Fatal(err)
			}
			run(t, d, api.Continue)
			pv, err := d.PackageVariables(`^main\.g(Perm|Bits|Level)$`, api.DefaultLoadConfig)
			if err != nil || len(pv) != len(want) {
				t.Fatalf("vars: %+v %v", pv, err)
			}
			for _, v := range pv {
				if v.Value != want[v.Name] {
					t.Errorf("vars %s = %q, want %q", v.Name, v.Value, want[v.Name])
				}
			}
			for name, w := range want {
				v, err := d.Eval(-1, 0, name, api.DefaultLoadConfig)
				if err != nil || v.Value != w {
					t.Errorf("print %s = %+v %v, want %q", name, v, err, w)
				}
			}
		})
	}
}

// TestUnreadableKeepsKind checks the wire form of a variable that has no
// location at the PC (the optimized closure's result before it is set):
// as in Delve 1.27.2, {"name":"~r0","type":"int","kind":"int",
// "unreadable":"empty OP stack"}, not kind "invalid". The captured-by-
// reference m carries Delve's VariableEscaped flag.
func TestUnreadableKeepsKind(t *testing.T) {
	d := launch(t, "truth", fixture.Flavour{Optimized: true})
	if _, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.capture.func1"}, ""); err != nil {
		t.Fatal(err)
	}
	run(t, d, api.Continue)
	args, err := d.FunctionArguments(-1, 0, api.DefaultLoadConfig)
	if err != nil || len(args) != 2 {
		t.Fatalf("args: %+v %v", args, err)
	}
	r := args[1]
	if r.Name != "~r0" || r.Type != "int" || r.RealType != "int" || r.Kind != reflect.Int || r.Unreadable != "empty OP stack" ||
		r.Value != "" || r.Flags != api.VariableReturnArgument {
		t.Errorf("~r0 on the wire: %+v", r)
	}
	locals, err := d.LocalVariables(-1, 0, api.DefaultLoadConfig)
	if err != nil || len(locals) != 1 {
		t.Fatalf("locals: %+v %v", locals, err)
	}
	if m := locals[0]; m.Name != "m" || m.Value != "7" || m.Kind != reflect.Int || m.Flags != api.VariableEscaped {
		t.Errorf("m on the wire: %+v", m)
	}
}
