package dap

import (
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestKernelConditions: a function breakpoint's condition and hit
// condition, evaluated in the kernel (as root), stop exactly where they
// hold, with the values an int3 stop shows; the program's output is its own.
func TestKernelConditions(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	bin := fixture.Build(t, "condloop", fixture.Flavour{})
	c := dial(t, startServer(t))
	c.launch(map[string]any{"mode": "exec", "program": bin, "args": []string{"300000"}, "stopOnEntry": true})
	seq := c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main.hot", "condition": "i == 250000"}}})
	bp := expectResponse[*dap.SetFunctionBreakpointsResponse](c, seq).Body.Breakpoints[0]
	if !bp.Verified {
		t.Fatalf("breakpoint: %+v", bp)
	}
	seq = c.send("configurationDone", nil)
	expect[*dap.StoppedEvent](c)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)

	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	if stop.Reason != "function breakpoint" || stop.HitBreakpointIds[0] != bp.Id {
		t.Fatalf("stopped: %+v", stop)
	}
	if i := c.argValue(stop.ThreadId, "i"); i != "250000" {
		t.Fatalf("i == 250000 stopped with i = %s", i)
	}
	if p := c.evaluate("*p", 0, "repl"); p.Result != "1" {
		t.Fatalf("*p = %q", p.Result)
	}

	// Amended: the hit count goes on from the hit above (as in Delve), so
	// the second hit is the first where i > 250000 holds.
	seq = c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{
		{"name": "main.hot", "condition": "i > 250000", "hitCondition": "== 2"}}})
	if bps := expectResponse[*dap.SetFunctionBreakpointsResponse](c, seq).Body.Breakpoints; len(bps) != 1 || !bps[0].Verified {
		t.Fatalf("amended: %+v", bps)
	}
	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	stop = expect[*dap.StoppedEvent](c).Body
	if i := c.argValue(stop.ThreadId, "i"); i != "250001" || stop.Reason != "function breakpoint" {
		t.Fatalf("stopped (%+v) with i = %s, want 250001", stop, i)
	}
	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	if ex := expect[*dap.ExitedEvent](c); ex.Body.ExitCode != 0 {
		t.Fatalf("exit code %d", ex.Body.ExitCode)
	}
	expect[*dap.TerminatedEvent](c)
	if out := c.output(); out != "sum 134999850000\n" {
		t.Fatalf("output %q", out)
	}
}
