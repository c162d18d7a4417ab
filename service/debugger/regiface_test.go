package debugger_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
)

// TestInterfaceArgsInRegisters stops at the entry of f(errors.New("boom"),
// 3, nil) in the optimized build, where the three interfaces live only in
// registers. The text is what Delve 1.27.2's args prints for the same
// binary: the register-held error keeps its fake address (its data word
// is at 0xbeef000000000000+8), which the wire carries flagged, and the nil
// error is "error nil". Before the one overlay the wire zeroed fake
// addresses and printed "error(*errors.errorString) 0x0".
func TestInterfaceArgsInRegisters(t *testing.T) {
	d := launch(t, "regiface", fixture.Flavour{Optimized: true})
	if _, err := d.CreateBreakpoint(api.Breakpoint{}, "main.f"); err != nil {
		t.Fatal(err)
	}
	at(t, run(t, d, api.Continue), "main.f", 13)
	// What the terminal's args (without -v) asks for.
	args, err := d.FunctionArguments(-1, 0, api.LoadConfig{MaxStringLen: 64, MaxStructFields: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := "e = error(*errors.errorString) 0xbeef000000000008\ni = interface {}(int) 3\nn = error nil\n~r0 = (unreadable empty OP stack)\n"
	if got := argsText(args); got != want {
		t.Fatalf("args:\n%s\nwant:\n%s", got, want)
	}
	if len(args) == 0 || args[0].Flags&api.VariableFakeAddress == 0 || args[0].Addr != 0xbeef000000000000 {
		t.Errorf("e on the wire: Addr %#x, flags %b; want 0xbeef000000000000, fake", args[0].Addr, args[0].Flags)
	}
	v, err := d.Eval(-1, 0, "e", api.DefaultLoadConfig)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.MultilineString("", ""), `error(*errors.errorString) *{s: "boom"}`; got != want {
		t.Errorf("print e = %q, want %q", got, want)
	}
}
