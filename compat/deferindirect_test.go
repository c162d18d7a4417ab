package compat

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-delve/delve/service/api"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestDelveStepIntoIndirectDefers steps, on both debuggers, from the
// return of functions whose deferred call the compiler cannot name at the
// defer: a func value (called by the function's exit code through a
// register), a func value with an argument and an interface method (both
// through a deferwrap closure), a pointer method, and a func value deferred
// in a loop (through runtime.deferproc and deferreturn). tinydbg goes where
// dlv goes except where dlv breaks its own rule that step over a return
// enters the deferred call (TestDelveStepIntoDeferredCall): for c.bump()
// and b.bump(), which the compiler calls through a deferwrap, dlv stops
// back on the return's row without entering bump; tinydbg enters it.
func TestDelveStepIntoIndirectDefers(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "deferindirect", fixture.Flavour{})
	src := fixture.Source("deferindirect")
	want := map[string][]string{
		"dlv": {
			"main.funcValue:31 main.funcValue:32 main.done:21",
			"main.method:37 main.method:38 main.method:37",
			"main.funcValueArg:43 main.funcValueArg:44 main.funcValueArg.deferwrap1:42 main.add:24",
			"main.iface:49 main.iface:50 main.iface:49",
			"main.inLoop:57 main.inLoop:58 main.done:21",
		},
		"tinydbg": {
			"main.funcValue:31 main.funcValue:32 main.done:21",
			"main.method:37 main.method:38 main.(*counter).bump:12",
			"main.funcValueArg:43 main.funcValueArg:44 main.funcValueArg.deferwrap1:42 main.add:24",
			"main.iface:49 main.iface:50 main.(*counter).bump:12",
			"main.inLoop:57 main.inLoop:58 main.done:21",
		},
	}
	for _, d := range dapDebuggers(t) {
		t.Run(d.name, func(t *testing.T) {
			c := goLandClient(t, d.path, bin)
			defer c.Detach(true)
			for _, line := range []int{31, 37, 43, 49, 57} {
				if _, err := c.CreateBreakpoint(&api.Breakpoint{File: src, Line: line}); err != nil {
					t.Fatal(err)
				}
			}
			for _, w := range want[d.name] {
				n := len(strings.Fields(w))
				st, err := continueOnce(t, c)
				var got []string
				for err == nil && !st.Exited {
					got = append(got, fmt.Sprintf("%s:%d", st.CurrentThread.Function.Name(), st.CurrentThread.Line))
					if len(got) == n {
						break
					}
					st, err = c.Step()
				}
				if err != nil || strings.Join(got, " ") != w {
					t.Errorf("continue, then step: %q (error %v), want %q", strings.Join(got, " "), err, w)
				}
			}
		})
	}
}
