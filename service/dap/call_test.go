package dap

import (
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestEvaluateCall: evaluate "call f(x)" in the REPL injects the call as
// Delve's adapter does: the results joined in Result, each under its name
// when expanded, a refused call an error with Delve's message, and the
// program then goes on as without the calls.
func TestEvaluateCall(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "fncall", fixture.Flavour{})
	c := dial(t, startServer(t))
	c.launch(map[string]any{"mode": "exec", "program": bin})
	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("fncall")}, "breakpoints": []map[string]any{{"line": 83}}})
	expectResponse[*dap.SetBreakpointsResponse](c, seq)
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	f := c.stack(stop.ThreadId, 0, 1).Body.StackFrames[0].Id

	ev := c.evaluate("call swap(*p)", f, "repl")
	if ev.Result != "main.Point {X: 4, Y: 3}, true" || ev.VariablesReference == 0 {
		t.Fatalf("call swap(*p): %+v", ev)
	}
	vs := c.variables(ev.VariablesReference)
	if len(vs) != 2 || vs[0].Name != "~r0" || vs[0].Value != "main.Point {X: 4, Y: 3}" || vs[1].Name != "~r1" || vs[1].Value != "true" {
		t.Fatalf("results of swap(*p): %+v", vs)
	}
	if ev := c.evaluate("call greet(name, 2)", f, "repl"); ev.Result != `"gophergopher!"` {
		t.Fatalf("call greet(name, 2): %+v", ev)
	}
	if ev := c.evaluate("call nothing()", f, "repl"); ev.Result != "" || ev.VariablesReference != 0 {
		t.Fatalf("call nothing(): %+v", ev)
	}
	seq = c.send("evaluate", map[string]any{"expression": "call add(1)", "frameId": f, "context": "repl"})
	if e := c.expectError(seq); e.Body.Error == nil || e.Body.Error.Format != "Unable to evaluate expression: not enough arguments" {
		t.Fatalf("call add(1): %+v", e.Body.Error)
	}
	// The frame is the one the calls started from.
	if ev := c.evaluate("k", f, "repl"); ev.Result != "7" {
		t.Fatalf("k after the calls: %+v", ev)
	}

	// A breakpoint in the callee stops the call: a stopped event, then the
	// error, as Delve's adapter; continue finishes the call and the
	// program goes on to its end.
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("fncall")}, "breakpoints": []map[string]any{{"line": 83}, {"line": 50}}})
	expectResponse[*dap.SetBreakpointsResponse](c, seq)
	seq = c.send("evaluate", map[string]any{"expression": "call add(1, 2)", "frameId": f, "context": "repl"})
	if ev := expect[*dap.StoppedEvent](c); ev.Body.Reason != "breakpoint" {
		t.Fatalf("stopped in add: %+v", ev.Body)
	}
	if e := c.expectError(seq); e.Body.Error == nil || e.Body.Error.Format != "Unable to evaluate expression: call stopped" {
		t.Fatalf("call add(1, 2) stopped: %+v", e.Body.Error)
	}
	seq = c.send("continue", map[string]any{"threadId": stop.ThreadId})
	expectResponse[*dap.ContinueResponse](c, seq)
	if ev := expect[*dap.StoppedEvent](c); ev.Body.ThreadId != stop.ThreadId {
		t.Fatalf("stop finishing the call: %+v", ev.Body)
	}
	f = c.stack(stop.ThreadId, 0, 1).Body.StackFrames[0].Id
	if ev := c.evaluate("k", f, "repl"); ev.Result != "7" {
		t.Fatalf("k after the interrupted call: %+v", ev)
	}
}
