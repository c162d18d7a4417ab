package compat

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestDlvConnectCall drives injected function calls on `tinydbg exec
// --headless` with Delve's own terminal (its rpc2 client sends Command
// "call") and requires the transcript of `dlv exec --headless` on the same
// script, line for line (addresses masked): results of every shape under
// "Values returned:", a panic as ~panic, a string constant allocated in
// the target, the refusals of wrong arguments and of a stack pointer
// without -unsafe, print refusing a call, a breakpoint another goroutine
// hits during a call (continue then finishes it), and the program going on.
func TestDlvConnectCall(t *testing.T) {
	testenv.RequirePtrace(t)
	if dlvErr != nil {
		testenv.SkipOrFail(t, "no dlv %s: %v", dlvVersion, dlvErr)
	}
	bin := fixture.Build(t, "fncall", fixture.Flavour{})
	script := []string{
		"break main.go:83",
		"continue",
		"call add(40, 2)",
		"call swap(*p)",
		"call newPoint(k, 8)",
		"call s.Area()",
		"call nothing()",
		"call boom(name)",
		`call greet("x", 1)`,
		"call add(1)",
		"call add(name, 1)",
		"call p.Scale(2)",
		"call -unsafe p.Scale(2)",
		"print add(1, 2)",
		"call k",
		"print p.X",
		"break main.tick",
		"call waitTick()",
		"continue",
		"continue",
		"quit",
	}
	src := filepath.Join(fixture.Dir(), "fncall", "main.go")
	mask := func(ls []string) []string {
		var out []string
		for _, l := range ls {
			l = goroutineRE.ReplaceAllString(strings.ReplaceAll(l, src, "SRC"), "goroutine(G)")
			out = append(out, hexRE.ReplaceAllString(l, "0xADDR"))
		}
		return out
	}
	tiny := startHeadless(t, tinydbgBin, "exec", "--headless", "--listen=127.0.0.1:0", "--api-version=2", bin)
	got := mask(normalize(connectScript(t, tiny.addr, script)))
	tiny.wait(t, "tinydbg")
	ref := startHeadless(t, dlvBin, "exec", "--headless", "--listen=127.0.0.1:0", "--api-version=2", bin)
	delve := mask(normalize(connectScript(t, ref.addr, script)))
	ref.wait(t, "dlv")
	for _, w := range []string{
		"\t~r0: main.Point {X: 4, Y: 3}",
		"\t~panic: interface {}(string) \"boom: gopher\"",
		"\t~r0: \"x!\"",
		"(dlv) > main.stop() SRC:83 (PC: 0xADDR)",
		"Command failed: could not set call receiver: cannot use p.Scale as argument p in function main.(*Point).Scale: stack object passed to escaping pointer: p",
		"(dlv) 6",
		"(dlv) > [Breakpoint 2] main.tick() SRC:124 (hits goroutine(G):1 total:1) (PC: 0xADDR)",
		"\t~r0: 1",
	} {
		if !contains(got, w) {
			t.Errorf("tinydbg transcript lacks %q", w)
		}
	}
	sameTranscripts(t, got, delve)
}
