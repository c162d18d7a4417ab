package dap

import (
	"path/filepath"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// launch initializes and launches args, reading the two replies.
func (c *testClient) launch(args map[string]any) {
	c.t.Helper()
	c.initialize()
	seq := c.send("launch", args)
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.LaunchResponse](c, seq)
}

// argValue lists the arguments of the top frame of goid and returns name's value.
func (c *testClient) argValue(goid int, name string) string {
	c.t.Helper()
	f := c.stack(goid, 0, 1).Body.StackFrames[0]
	return findVar(c.t, c.variables(c.scopes(f.Id)["Locals"]), name).Value
}

// TestConditions checks conditions, hit conditions and function
// breakpoints on the recursion fixture, where fact(5) calls itself down
// to fact(1); it also amends a breakpoint's condition in place.
func TestConditions(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "recursion", fixture.Flavour{})
	src := fixture.Source("recursion")
	c := dial(t, startServer(t))
	c.launch(map[string]any{"mode": "exec", "program": bin, "stopOnEntry": true})

	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src},
		"breakpoints": []map[string]any{{"line": 6, "condition": "n == 3"}}})
	bp := expectResponse[*dap.SetBreakpointsResponse](c, seq).Body.Breakpoints[0]
	if !bp.Verified || bp.Line != 6 {
		t.Fatalf("breakpoint: %+v", bp)
	}
	seq = c.send("configurationDone", nil)
	if stop := expect[*dap.StoppedEvent](c).Body; stop.Reason != "entry" || stop.ThreadId != 1 {
		t.Fatalf("stop on entry: %+v", stop)
	}
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)

	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	if stop.Reason != "breakpoint" || stop.HitBreakpointIds[0] != bp.Id {
		t.Fatalf("stopped: %+v", stop)
	}
	if n := c.argValue(stop.ThreadId, "n"); n != "3" {
		t.Fatalf("condition n == 3 stopped with n = %s", n)
	}

	// Line 6 again with another condition amends the same breakpoint;
	// line 9 (return n * fact(n-1), reached for n = 3 first now) is new
	// and stops at its second hit.
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src},
		"breakpoints": []map[string]any{{"line": 6, "condition": "n == 1"}, {"line": 9, "hitCondition": "2"}}})
	bps := expectResponse[*dap.SetBreakpointsResponse](c, seq).Body.Breakpoints
	if len(bps) != 2 || !bps[0].Verified || bps[0].Id != bp.Id || !bps[1].Verified || bps[1].Line != 9 || bps[1].Id == bp.Id {
		t.Fatalf("amended breakpoints: %+v, first was %+v", bps, bp)
	}
	for _, want := range []struct {
		id int
		n  string
	}{{bps[1].Id, "2"}, {bp.Id, "1"}} {
		seq = c.send("continue", map[string]any{"threadId": 1})
		expectResponse[*dap.ContinueResponse](c, seq)
		stop = expect[*dap.StoppedEvent](c).Body
		if n := c.argValue(stop.ThreadId, "n"); n != want.n || stop.Reason != "breakpoint" || stop.HitBreakpointIds[0] != want.id {
			t.Fatalf("stopped (%+v) with n = %s, want breakpoint %d with n = %s", stop, n, want.id, want.n)
		}
	}

	// No source breakpoints, one function breakpoint with a condition;
	// an unknown function is reported, not fatal.
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src}, "breakpoints": []map[string]any{}})
	if bps := expectResponse[*dap.SetBreakpointsResponse](c, seq).Body.Breakpoints; len(bps) != 0 {
		t.Fatalf("cleared: %+v", bps)
	}
	seq = c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main.nosuch"}, {"name": "main.main"}}})
	fbps := expectResponse[*dap.SetFunctionBreakpointsResponse](c, seq).Body.Breakpoints
	if len(fbps) != 2 || fbps[0].Verified || fbps[0].Message == "" || !fbps[1].Verified || fbps[1].Source == nil || filepath.Base(fbps[1].Source.Path) != "main.go" {
		t.Fatalf("function breakpoints: %+v", fbps)
	}
	// main.main has run already: the program ends.
	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	if ex := expect[*dap.ExitedEvent](c); ex.Body.ExitCode != 0 {
		t.Fatalf("exit code %d", ex.Body.ExitCode)
	}
	expect[*dap.TerminatedEvent](c)
	if out := c.output(); out != "120\n" {
		t.Fatalf("output %q", out)
	}
}

// TestDebugModeFunctionBreakpoint builds the basic fixture from source
// (mode debug) and stops at a function breakpoint.
func TestDebugModeFunctionBreakpoint(t *testing.T) {
	testenv.RequirePtrace(t)
	c := dial(t, startServer(t))
	c.launch(map[string]any{"mode": "debug", "program": filepath.Dir(fixture.Source("basic"))})
	seq := c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main.add", "condition": "b == 4"}}})
	fbp := expectResponse[*dap.SetFunctionBreakpointsResponse](c, seq).Body.Breakpoints[0]
	if !fbp.Verified {
		t.Fatalf("function breakpoint: %+v", fbp)
	}
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	if stop.Reason != "function breakpoint" || stop.HitBreakpointIds[0] != fbp.Id {
		t.Fatalf("stopped: %+v", stop)
	}
	f := c.stack(stop.ThreadId, 0, 1).Body.StackFrames[0]
	if f.Name != "main.add" || f.Line != fbp.Line {
		t.Fatalf("frame %+v, breakpoint at line %d", f, fbp.Line)
	}
	// Setting a field of main's p changes what the program prints. (An
	// argument of add would not: -N -l code adds the argument registers,
	// not the spilled copies a debugger writes.)
	mainFrame := c.stack(stop.ThreadId, 1, 1).Body.StackFrames[0]
	p := findVar(t, c.variables(c.scopes(mainFrame.Id)["Locals"]), "p")
	seq = c.send("setVariable", map[string]any{"variablesReference": p.VariablesReference, "name": "X", "value": "5"})
	if sv := expectResponse[*dap.SetVariableResponse](c, seq).Body; sv.Value != "5" {
		t.Fatalf("setVariable: %+v", sv)
	}
	if x := findVar(t, c.variables(p.VariablesReference), "X"); x.Value != "5" {
		t.Fatalf("p.X after setVariable: %+v", x)
	}
	seq = c.send("setVariable", map[string]any{"variablesReference": p.VariablesReference, "name": "X", "value": "\"x\""})
	c.expectError(seq)
	seq = c.send("continue", map[string]any{"threadId": stop.ThreadId})
	expectResponse[*dap.ContinueResponse](c, seq)
	expect[*dap.ExitedEvent](c)
	expect[*dap.TerminatedEvent](c)
	if out := c.output(); out != "pt(10,8) 7 14\n" {
		t.Fatalf("output %q", out)
	}
}
