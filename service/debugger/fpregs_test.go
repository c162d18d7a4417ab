package debugger_test

import (
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
)

// argsText renders arguments the way `args` prints them.
func argsText(vars []api.Variable) string {
	var b strings.Builder
	for i := range vars {
		b.WriteString(vars[i].Name + " = " + vars[i].SinglelineString() + "\n")
	}
	return b.String()
}

// TestFloatArgInXmm stops at the entry of regArgs(1, "four", Point{2, 3},
// 2.5): in the optimized build f lives in X0 only, so showing 2.5 proves
// the debugger hands the thread's XMM registers to frame 0.
func TestFloatArgInXmm(t *testing.T) {
	d := launch(t, "scopes", fixture.Flavour{Optimized: true})
	if _, err := d.CreateBreakpoint(api.Breakpoint{}, "main.regArgs"); err != nil {
		t.Fatal(err)
	}
	// The fixture calls runtime.Breakpoint on its way; go on to regArgs.
	st := run(t, d, api.Continue)
	for i := 0; i < 20 && st.CurrentThread != nil && st.CurrentThread.Breakpoint == nil; i++ {
		st = run(t, d, api.Continue)
	}
	at(t, st, "main.regArgs", 137)
	cfg := api.LoadConfig{MaxStringLen: 64, MaxStructFields: -1}
	args, err := d.FunctionArguments(-1, 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := "n = 1\ns = \"four\"\np = main.Point {X: 2, Y: 3}\nf = 2.5\n~r0 = (unreadable empty OP stack)\n"
	if got := argsText(args); got != want {
		t.Fatalf("args:\n%s\nwant:\n%s", got, want)
	}
	for _, c := range []struct{ expr, want string }{{"f", "2.5"}, {"f * 2 + float64(n)", "6"}} {
		v, err := d.Eval(-1, 0, c.expr, cfg)
		if err != nil || v.Value != c.want || v.Unreadable != "" {
			t.Fatalf("%s = %+v, %v; want %s", c.expr, v, err, c.want)
		}
	}
	frames, err := d.Stacktrace(-1, 1, 0, &cfg)
	if err != nil || len(frames) != 2 {
		t.Fatalf("stacktrace %+v %v", frames, err)
	}
	if got := argsText(frames[0].Arguments); got != want {
		t.Fatalf("stacktrace frame 0 args:\n%s", got)
	}
}
