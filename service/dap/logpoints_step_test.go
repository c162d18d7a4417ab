package dap

import (
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// nextOntoLogpoint stops at basic's line 33, nexts onto line 34, which
// holds a logpoint, and runs on to the end: the next ends at 34 with a
// "step" stop and the logpoint's line is logged once, before that stop.
func nextOntoLogpoint(t *testing.T, msg, cond, want string, kernel bool) {
	t.Helper()
	before := testenv.BPFLinks(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	c := launchExec(t, map[string]any{"mode": "exec", "program": bin})
	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src}, "breakpoints": []map[string]any{
		{"line": 33}, {"line": 34, "logMessage": msg, "condition": cond}}})
	expectResponse[*dap.SetBreakpointsResponse](c, seq)
	if links := testenv.BPFLinks(t); links > before != kernel {
		t.Fatalf("%d BPF links with the logpoint set, %d before", links, before)
	}
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	logged, stop := waitStop(t, c)
	if len(logged) != 0 || stop.Body.Reason != "breakpoint" {
		t.Fatalf("first stop %+v after %q", stop.Body, logged)
	}
	c.checkTop(1, "main.main", 33)
	seq = c.send("next", map[string]any{"threadId": 1})
	expectResponse[*dap.NextResponse](c, seq)
	logged, stop = waitStop(t, c)
	if stop.Body.Reason != "step" {
		t.Fatalf("next stopped %+v after %q", stop.Body, logged)
	}
	c.checkTop(1, "main.main", 34)
	seq = c.send("continue", map[string]any{"threadId": 1})
	for done := false; !done; {
		switch m := c.nextAny().(type) {
		case *dap.OutputEvent:
			if strings.HasPrefix(m.Body.Output, "> ") {
				logged = append(logged, m.Body.Output)
			}
		case *dap.StoppedEvent:
			t.Fatalf("stopped after the next: %+v", m.Body)
		case *dap.TerminatedEvent:
			done = true
		}
	}
	if strings.Join(logged, "") != want {
		t.Fatalf("logged %q, want %q", logged, want)
	}
}

// TestNextOntoStoppingLogpoint: a logpoint that stops to evaluate (an
// expression the kernel cannot capture).
func TestNextOntoStoppingLogpoint(t *testing.T) {
	testenv.RequirePtrace(t)
	nextOntoLogpoint(t, "n+1={n+1}", "", "> [Go 1]: n+1=8\n", false)
}

// TestNextOntoKernelLogpoint: a logpoint the kernel evaluates, and the
// same one with its condition evaluated by stopping.
func TestNextOntoKernelLogpoint(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	t.Run("kernel", func(t *testing.T) { nextOntoLogpoint(t, "n={n}", "", "> [Go 1]: n=7\n", true) })
	t.Run("cond", func(t *testing.T) {
		t.Setenv("TINYDBG_KERNEL_COND", "0")
		nextOntoLogpoint(t, "n={n}", "n == 7", "> [Go 1]: n=7\n", false)
	})
}
