package terminal_test

import (
	"strings"
	"testing"
)

// defaultBps is how "breakpoints" lists Delve's two default breakpoints
// before any hit, addresses masked (see hexRE).
const defaultBps = `Breakpoint runtime-fatal-throw (enabled) at 0xPC,0xPC,0xPC for (multiple functions)() <multiple locations>:0 (0)
Breakpoint unrecovered-panic (enabled) at 0xPC for runtime.fatalpanic() /usr/local/go/src/runtime/panic.go:1456 (0)
	print runtime.curg._panic.arg
`

// TestUnrecoveredPanicStop checks the default breakpoints as Delve 1.27
// lists them, the stop on an unrecovered panic with the panic value, the
// stack down to the user frame that panicked, and clearing one by name.
func TestUnrecoveredPanicStop(t *testing.T) {
	out, errOut := runREPL(t, "panicexit", "breakpoints\ncontinue\nbt\nclear runtime-fatal-throw\nbreakpoints\nexit\n")
	got := hexRE.ReplaceAllString(out, "0xPC")
	for _, want := range []string{
		defaultBps + `> [unrecovered-panic] runtime.fatalpanic() /usr/local/go/src/runtime/panic.go:1456 (hits goroutine(1):1 total:1) (PC: 0xPC)
Warning: debugging optimized function
	runtime.curg._panic.arg: interface {}(string) "level 3 too deep: bad config"
`,
		`0  0xPC in runtime.fatalpanic
   at /usr/local/go/src/runtime/panic.go:1456
1  0xPC in runtime.gopanic
   at /usr/local/go/src/runtime/panic.go:879
2  0xPC in main.load
   at ./main.go:19
3  0xPC in main.load
   at ./main.go:21
4  0xPC in main.load
   at ./main.go:21
5  0xPC in main.load
   at ./main.go:21
6  0xPC in main.main
   at ./main.go:26
`,
		`Breakpoint runtime-fatal-throw cleared at 0xPC,0xPC,0xPC for (multiple functions)() <multiple locations>:0
Breakpoint unrecovered-panic (enabled) at 0xPC for runtime.fatalpanic() /usr/local/go/src/runtime/panic.go:1456 (1)
	print runtime.curg._panic.arg
`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
		}
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
}
