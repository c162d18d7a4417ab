package dap

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// names lists the names of vars, in order.
func names(vars []dap.Variable) []string {
	out := []string{}
	for _, v := range vars {
		out = append(out, v.Name)
	}
	return out
}

// launchStopped launches the basic fixture with extra attributes, stops
// at main.add's line 15 (after sum is set) and returns the top frame.
func launchStopped(t *testing.T, attrs map[string]any, bpPath string) (*testClient, dap.StackFrame) {
	t.Helper()
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	ts := startServer(t)
	c := dial(t, ts)
	c.initialize()
	args := map[string]any{"request": "launch", "mode": "exec", "program": bin}
	for k, v := range attrs {
		args[k] = v
	}
	seq := c.send("launch", args)
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.LaunchResponse](c, seq)
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": bpPath}, "breakpoints": []map[string]any{{"line": 15}}})
	if bps := expectResponse[*dap.SetBreakpointsResponse](c, seq).Body.Breakpoints; len(bps) != 1 || !bps[0].Verified || bps[0].Source.Path != bpPath {
		t.Fatalf("setBreakpoints at %s: %+v", bpPath, bps)
	}
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	top := c.checkTop(stop.ThreadId, "main.add", 15)
	return c, top
}

// TestScopesLayout checks Delve's scopes: one Locals scope with the
// arguments, then the result ~r0, then the locals; Globals and Registers
// only when the launch configuration asks for them.
func TestScopesLayout(t *testing.T) {
	testenv.RequirePtrace(t)
	src := fixture.Source("basic")
	t.Run("default", func(t *testing.T) {
		c, top := launchStopped(t, nil, src)
		seq := c.send("scopes", map[string]any{"frameId": top.Id})
		scopes := expectResponse[*dap.ScopesResponse](c, seq).Body.Scopes
		if len(scopes) != 1 || scopes[0].Name != "Locals" || scopes[0].PresentationHint != "" {
			t.Fatalf("scopes %+v", scopes)
		}
		vars := c.variables(scopes[0].VariablesReference)
		if got := strings.Join(names(vars), " "); got != "a b ~r0 sum" {
			t.Fatalf("Locals are %q, want %q", got, "a b ~r0 sum")
		}
		if vars[3].Value != "7" || vars[0].Value != "3" || vars[2].EvaluateName != "" {
			t.Fatalf("values %+v", vars)
		}
	})
	t.Run("globals and registers", func(t *testing.T) {
		c, top := launchStopped(t, map[string]any{"showGlobalVariables": true, "showRegisters": true}, src)
		seq := c.send("scopes", map[string]any{"frameId": top.Id})
		scopes := expectResponse[*dap.ScopesResponse](c, seq).Body.Scopes
		got := []string{}
		for _, s := range scopes {
			got = append(got, s.Name)
		}
		if strings.Join(got, "|") != "Locals|Globals (package main)|Registers" {
			t.Fatalf("scopes %q", got)
		}
		globals := c.variables(scopes[1].VariablesReference)
		counter := findVar(t, globals, "counter")
		if counter.Value != "7" || counter.EvaluateName != "main.counter" {
			t.Fatalf("counter: %+v", counter)
		}
		regs := c.variables(scopes[2].VariablesReference)
		rip := findVar(t, regs, "   rip")
		if want := fmt.Sprintf("%#016x", mustHex(t, top.InstructionPointerReference)); rip.Value != want {
			t.Fatalf("Rip %q, frame's pc %q", rip.Value, top.InstructionPointerReference)
		}
	})
	t.Run("substitutePath and stackTraceDepth", func(t *testing.T) {
		// The client sees the sources under /client/src; the binary has
		// them in the fixture directory.
		dir := filepath.Dir(src)
		c, top := launchStopped(t, map[string]any{
			"substitutePath":  []map[string]string{{"from": "/client/src", "to": dir}},
			"stackTraceDepth": 1, "hideSystemGoroutines": true, "goroutineFilters": "", "someFutureAttribute": 1,
		}, "/client/src/"+filepath.Base(src))
		if top.Source.Path != "/client/src/"+filepath.Base(src) {
			t.Fatalf("frame source %q", top.Source.Path)
		}
		seq := c.send("stackTrace", map[string]any{"threadId": 1})
		if frames := expectResponse[*dap.StackTraceResponse](c, seq).Body.StackFrames; len(frames) != 1 {
			t.Fatalf("stackTraceDepth 1 gave %d frames", len(frames))
		}
		seq = c.send("threads", nil)
		threads := expectResponse[*dap.ThreadsResponse](c, seq).Body.Threads
		if len(threads) != 1 || !strings.HasPrefix(threads[0].Name, "* [Go 1] main.add") {
			t.Fatalf("threads without system goroutines: %+v", threads)
		}
	})
}

// TestBadAttributes checks that attributes of the wrong type or value get
// a clear error, launch and attach alike.
func TestBadAttributes(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts)
	c.initialize()
	for _, tc := range []struct {
		command string
		args    map[string]any
		want    string
	}{
		{"launch", map[string]any{"mode": "exec", "program": "x", "showRegisters": "yes"},
			"Failed to launch: invalid debug configuration - the 'showRegisters' attribute must be a boolean, not a string"},
		{"launch", map[string]any{"mode": "exec", "program": "x", "args": "a b"},
			"Failed to launch: invalid debug configuration - the 'args' attribute must be a list, not a string"},
		{"launch", map[string]any{"mode": "exec", "program": "x", "env": []string{"A=1"}},
			"Failed to launch: invalid debug configuration - the 'env' attribute must be an object, not a list"},
		{"launch", map[string]any{"mode": "exec", "program": "x", "backend": "rr"},
			`Failed to launch: invalid debug configuration - unsupported 'backend' attribute "rr": tinydbg has only the native backend`},
		{"launch", map[string]any{"mode": "exec", "program": "x", "stackTraceDepth": -1},
			"Failed to launch: invalid debug configuration - 'stackTraceDepth' must not be negative, got -1"},
		{"launch", map[string]any{"mode": "exec", "program": "x", "goroutineFilters": "-with nowhere x"},
			`Failed to launch: invalid debug configuration - invalid 'goroutineFilters' attribute "-with nowhere x": unrecognized argument to -with nowhere`},
		{"attach", map[string]any{"mode": "local", "processId": 1, "substitutePath": []map[string]string{{}}},
			"Failed to attach: invalid debug configuration - 'substitutePath' entry 0 has neither 'from' nor 'to'"},
		{"attach", map[string]any{"mode": "local", "processId": "12"},
			"Failed to attach: invalid debug configuration - the 'processId' attribute must be a number, not a string"},
	} {
		seq := c.send(tc.command, tc.args)
		if er := c.expectError(seq); er.Body.Error.Format != tc.want || !er.Body.Error.ShowUser {
			t.Errorf("%s %v:\n got %q\nwant %q", tc.command, tc.args, er.Body.Error.Format, tc.want)
		}
	}
}

func mustHex(t *testing.T, s string) uint64 {
	t.Helper()
	var v uint64
	if _, err := fmt.Sscanf(s, "0x%x", &v); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}
