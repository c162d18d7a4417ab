package terminal_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestKernelTracepointsMatchStops runs the same tracepoints (a line in
// main.add, main.Scale's entry, main.describe's line with values through
// a pointer and a struct) in the kernel and, given a condition that
// always holds, by stopping: both print the same lines, the stopping run
// after one line per tracepoint saying why.
func TestKernelTracepointsMatchStops(t *testing.T) {
	testenv.RequireRoot(t)
	script := "trace main.go:15\non 1 print sum\ntrace main.go:20\non 2 print p.X\non 2 print p\non 2 print k\n" +
		"trace main.go:25\non 3 print s\non 3 print p.Name\n%scontinue\nbreakpoints\nexit\n"
	kernel, kerr := runREPL(t, "basic", strings.ReplaceAll(script, "%s", ""))
	// 1 == 1 compiles to BPF: with kernel conditions turned off, it makes
	// each tracepoint stop.
	t.Setenv("TINYDBG_KERNEL_COND", "0")
	stopped, serr := runREPL(t, "basic", strings.ReplaceAll(script, "%s", "cond 1 1 == 1\ncond 2 1 == 1\ncond 3 1 == 1\n"))
	pids := regexp.MustCompile(`Process \d+`)
	if strings.Contains(kernel, "stops the program") || pids.ReplaceAllString(kerr, "Process N") != pids.ReplaceAllString(serr, "Process N") {
		t.Errorf("kernel run:\n%s\nstderr %q, stopping run's %q", kernel, kerr, serr)
	}
	var why int
	var kept []string
	for _, l := range strings.SplitAfter(stopped, "\n") {
		if strings.HasSuffix(l, "stops the program to evaluate: its condition: TINYDBG_KERNEL_COND=0\n") {
			why++
		} else {
			kept = append(kept, l)
		}
	}
	if why != 3 {
		t.Errorf("stopping run said why %d times:\n%s", why, stopped)
	}
	// The listing shows the conditions of the stopping run; the heap's
	// addresses differ from run to run.
	cut := func(s string) string {
		return hexRE.ReplaceAllString(s[:strings.Index(s, "Breakpoint runtime-fatal-throw")], "0xADDR")
	}
	if cut(kernel) != cut(strings.Join(kept, "")) {
		t.Errorf("kernel run:\n%s\nstopping run:\n%s", cut(kernel), cut(strings.Join(kept, "")))
	}
	for _, want := range []string{"> goroutine(1): main.add(3, 4)\n\n\tsum: 7\n",
		"\tp.X: 6\n", "*main.Point {X: 6, Y: 4, Name: \"pt\"}\n\tk: 2\n",
		"> goroutine(1): main.describe(main.Point {X: 6, Y: 8, Name: \"pt\"})\n\n\ts: \"pt(6,8)\"\n\tp.Name: \"pt\"\n"} {
		if !strings.Contains(kernel, want) {
			t.Errorf("kernel run:\n%s\nwant:\n%s", kernel, want)
		}
	}
}
