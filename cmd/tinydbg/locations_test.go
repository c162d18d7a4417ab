package main

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestBreakLineAndOffsetInCurrentFile: `break 33` and `break +1` resolve
// in the file of the current stop.
func TestBreakLineAndOffsetInCurrentFile(t *testing.T) {
	r := debugFixture(t, "basic", "break main.main\ncontinue\nbreak 33\nbreak +1\ncontinue\nexit\n")
	expectBlock(t, r.stdout, "> [Breakpoint 1] main.main() ./main.go:30 (hits goroutine(1):1 total:1) (PC: 0xPC)")
	expectBlock(t, r.stdout, "Breakpoint 2 set at 0xPC for main.main() ./main.go:33")
	expectBlock(t, r.stdout, "Breakpoint 3 set at 0xPC for main.main() ./main.go:31")
	expectBlock(t, r.stdout, "> [Breakpoint 3] main.main() ./main.go:31 (hits goroutine(1):1 total:1) (PC: 0xPC)")
	if r.stderr != "" {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// TestBreakMainWithInlinedFirstCall: main.main of inlinedentry starts with
// an inlined call into mode.go; as in Delve the breakpoint is at
// prologue_end, before that call, on main.main's func line (main.go:8), and
// +3 counts from there (line 10 has no code).
func TestBreakMainWithInlinedFirstCall(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "inlinedentry", fixture.Flavour{Optimized: true})
	r := run(t, fixtureDir("inlinedentry"), "break main.main\ncontinue\nbreak +3\nexit\n", "exec", bin)
	if r.code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	expectBlock(t, r.stdout,
		"Breakpoint 1 set at 0xPC for main.main() ./main.go:8",
		"> [Breakpoint 1] main.main() ./main.go:8 (hits goroutine(1):1 total:1) (PC: 0xPC)",
		"Warning: debugging optimized function",
		"     3:\t// statement after the prologue belongs to the inlined body, in another file.",
	)
	expectBlock(t, r.stdout, "=>   8:\tfunc main() {", "     9:\t\tsetMode(3)")
	expectBlock(t, r.stdout, "Breakpoint 2 set at 0xPC for main.main() ./main.go:11")
}
