package dap

import (
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// findVar returns the variable named name.
func findVar(t *testing.T, vars []dap.Variable, name string) dap.Variable {
	t.Helper()
	for _, v := range vars {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no variable %q in %+v", name, vars)
	return dap.Variable{}
}

// variables lists the variables of ref.
func (c *testClient) variables(ref int) []dap.Variable {
	c.t.Helper()
	seq := c.send("variables", map[string]any{"variablesReference": ref})
	return expectResponse[*dap.VariablesResponse](c, seq).Body.Variables
}

// stack returns the first levels frames of goroutine goid.
func (c *testClient) stack(goid, start, levels int) *dap.StackTraceResponse {
	c.t.Helper()
	seq := c.send("stackTrace", map[string]any{"threadId": goid, "startFrame": start, "levels": levels})
	return expectResponse[*dap.StackTraceResponse](c, seq)
}

// scopes returns the scopes of frame id, by name.
func (c *testClient) scopes(frameID int) map[string]int {
	c.t.Helper()
	seq := c.send("scopes", map[string]any{"frameId": frameID})
	out := map[string]int{}
	for _, s := range expectResponse[*dap.ScopesResponse](c, seq).Body.Scopes {
		out[s.Name] = s.VariablesReference
	}
	return out
}

// checkTop checks the innermost frame of goid.
func (c *testClient) checkTop(goid int, fn string, line int) dap.StackFrame {
	c.t.Helper()
	st := c.stack(goid, 0, 1)
	if len(st.Body.StackFrames) != 1 {
		c.t.Fatalf("stackTrace of one level: %+v", st.Body)
	}
	f := st.Body.StackFrames[0]
	if f.Name != fn || f.Line != line {
		c.t.Fatalf("top frame is %s line %d, want %s line %d", f.Name, f.Line, fn, line)
	}
	return f
}

// TestBasicSession drives a whole VS Code-like session on the basic
// fixture: breakpoint, stack, variables, evaluate, next, stepOut, and the
// program's exit with its output.
func TestBasicSession(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	ts := startServer(t)
	c := dial(t, ts)

	caps := c.initialize().Body
	if !caps.SupportsConfigurationDoneRequest || !caps.SupportsConditionalBreakpoints || !caps.SupportsFunctionBreakpoints || !caps.SupportsSetVariable {
		t.Fatalf("capabilities: %+v", caps)
	}
	seq := c.send("launch", map[string]any{"request": "launch", "mode": "exec", "program": bin})
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.LaunchResponse](c, seq)

	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src}, "breakpoints": []map[string]any{{"line": 14}}})
	bps := expectResponse[*dap.SetBreakpointsResponse](c, seq).Body.Breakpoints
	if len(bps) != 1 || !bps[0].Verified || bps[0].Line != 14 || bps[0].Source.Path != src {
		t.Fatalf("setBreakpoints: %+v", bps)
	}
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	if stop.Reason != "breakpoint" || !stop.AllThreadsStopped || stop.ThreadId != 1 ||
		len(stop.HitBreakpointIds) != 1 || stop.HitBreakpointIds[0] != bps[0].Id {
		t.Fatalf("stopped: %+v", stop)
	}
	goid := stop.ThreadId

	seq = c.send("threads", nil)
	threads := expectResponse[*dap.ThreadsResponse](c, seq).Body.Threads
	found := false
	for _, th := range threads {
		if th.Id == goid {
			found = true
			if !strings.HasPrefix(th.Name, "* [Go 1] main.add (Thread ") {
				t.Errorf("thread name %q", th.Name)
			}
		}
	}
	if !found {
		t.Fatalf("goroutine %d not in threads %+v", goid, threads)
	}

	st := c.stack(goid, 0, 20)
	frames := st.Body.StackFrames
	if len(frames) < 3 || frames[0].Name != "main.add" || frames[0].Line != 14 ||
		frames[1].Name != "main.main" || frames[1].Line != 32 || frames[0].Source.Path != src || frames[0].Source.Name != "main.go" {
		t.Fatalf("stack: %+v", frames)
	}
	if st.Body.TotalFrames != len(frames) {
		t.Errorf("totalFrames %d for a complete stack of %d", st.Body.TotalFrames, len(frames))
	}
	// Paging: the second frame alone.
	page := c.stack(goid, 1, 1)
	if len(page.Body.StackFrames) != 1 || page.Body.StackFrames[0].Name != "main.main" || page.Body.TotalFrames <= 2 {
		t.Fatalf("stack page 1+1: %+v", page.Body)
	}

	sc := c.scopes(frames[0].Id)
	if len(sc) != 1 {
		t.Fatalf("scopes of add: %v, want Delve's one Locals scope", sc)
	}
	args := c.variables(sc["Locals"])
	if a, b := findVar(t, args, "a"), findVar(t, args, "b"); a.Value != "3" || b.Value != "4" || a.Type != "int" || a.EvaluateName != "a" {
		t.Fatalf("args of add: %+v", args)
	}
	mainScopes := c.scopes(frames[1].Id)
	p := findVar(t, c.variables(mainScopes["Locals"]), "p")
	if p.Value != `main.Point {X: 3, Y: 4, Name: "pt"}` || p.Type != "main.Point" || p.VariablesReference == 0 {
		t.Fatalf("p in main: %+v", p)
	}
	fields := c.variables(p.VariablesReference)
	if x, y, n := findVar(t, fields, "X"), findVar(t, fields, "Y"), findVar(t, fields, "Name"); x.Value != "3" || y.Value != "4" ||
		n.Value != `"pt"` || x.EvaluateName != "p.X" || len(fields) != 3 {
		t.Fatalf("fields of p: %+v", fields)
	}

	seq = c.send("evaluate", map[string]any{"expression": "p.X + 1", "frameId": frames[1].Id, "context": "repl"})
	if ev := expectResponse[*dap.EvaluateResponse](c, seq).Body; ev.Result != "4" || ev.VariablesReference != 0 {
		t.Fatalf("evaluate p.X + 1: %+v", ev)
	}
	seq = c.send("evaluate", map[string]any{"expression": "nosuchvar", "frameId": frames[0].Id, "context": "watch"})
	if er := c.expectError(seq); !strings.HasPrefix(er.Body.Error.Format, "Unable to evaluate expression: ") || er.Body.Error.ShowUser {
		t.Fatalf("evaluate of an unknown name: %+v", er.Body.Error)
	}

	// A request go-dap knows and tinydbg does not implement.
	seq = c.send("source", map[string]any{"sourceReference": 1})
	if er := c.expectError(seq); er.Body.Error.Id != errUnsupported || er.Body.Error.Format != `Unsupported command: cannot process "source" request` {
		t.Fatalf("source: %+v", er.Body.Error)
	}

	seq = c.send("next", map[string]any{"threadId": goid})
	expectResponse[*dap.NextResponse](c, seq)
	if stop := expect[*dap.StoppedEvent](c).Body; stop.Reason != "step" || stop.ThreadId != goid {
		t.Fatalf("stopped after next: %+v", stop)
	}
	c.checkTop(goid, "main.add", 15)
	// The frame ids of the previous stop are gone.
	seq = c.send("scopes", map[string]any{"frameId": frames[0].Id})
	c.expectError(seq)

	seq = c.send("stepOut", map[string]any{"threadId": goid})
	expectResponse[*dap.StepOutResponse](c, seq)
	if stop := expect[*dap.StoppedEvent](c).Body; stop.Reason != "step" {
		t.Fatalf("stopped after stepOut: %+v", stop)
	}
	c.checkTop(goid, "main.main", 32)

	seq = c.send("next", map[string]any{"threadId": goid})
	expectResponse[*dap.NextResponse](c, seq)
	expect[*dap.StoppedEvent](c)
	c.checkTop(goid, "main.main", 33)
	seq = c.send("stepIn", map[string]any{"threadId": goid})
	expectResponse[*dap.StepInResponse](c, seq)
	if stop := expect[*dap.StoppedEvent](c).Body; stop.Reason != "step" || stop.ThreadId != goid {
		t.Fatalf("stopped after stepIn: %+v", stop)
	}
	// stepIn stops where Delve does: prologue_end, on the func line.
	in := c.checkTop(goid, "main.(*Point).Scale", 18)
	if k := findVar(t, c.variables(c.scopes(in.Id)["Locals"]), "k"); k.Value != "2" {
		t.Fatalf("k in Scale: %+v", k)
	}

	seq = c.send("continue", map[string]any{"threadId": goid})
	if r := expectResponse[*dap.ContinueResponse](c, seq); !r.Body.AllThreadsContinued {
		t.Fatalf("continue: %+v", r.Body)
	}
	if ex := expect[*dap.ExitedEvent](c); ex.Body.ExitCode != 0 {
		t.Fatalf("exit code %d", ex.Body.ExitCode)
	}
	expect[*dap.TerminatedEvent](c)
	if out := c.output(); out != "pt(6,8) 7 14\n" {
		t.Fatalf("program output %q", out)
	}
	seq = c.send("disconnect", map[string]any{})
	expectResponse[*dap.DisconnectResponse](c, seq)
	expect[*dap.TerminatedEvent](c)
	c.expectClosed()
	ts.wait(t)
}
