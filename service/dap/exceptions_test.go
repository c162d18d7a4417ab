package dap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// startWithFilters launches program (mode exec, or debug for a
// directory), sets the exception filters and runs it.
func startWithFilters(t *testing.T, mode, program string, filters []string) *testClient {
	t.Helper()
	ts := startServer(t)
	c := dial(t, ts)
	caps := c.initialize().Body
	if len(caps.ExceptionBreakpointFilters) != 2 || caps.ExceptionBreakpointFilters[0] != (dap.ExceptionBreakpointsFilter{Filter: "unrecovered-panic", Label: "Unrecovered Panics", Default: true}) ||
		caps.ExceptionBreakpointFilters[1] != (dap.ExceptionBreakpointsFilter{Filter: "runtime-fatal-throw", Label: "Fatal Throws", Default: true}) ||
		!caps.SupportsExceptionInfoRequest {
		t.Fatalf("exception capabilities %+v", caps)
	}
	seq := c.send("launch", map[string]any{"mode": mode, "program": program})
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.LaunchResponse](c, seq)
	seq = c.send("setExceptionBreakpoints", map[string]any{"filters": filters})
	bps := expectResponse[*dap.SetExceptionBreakpointsResponse](c, seq).Body.Breakpoints
	if len(bps) != len(filters) {
		t.Fatalf("filters %v gave breakpoints %+v", filters, bps)
	}
	for i, b := range bps {
		// As Delve: the panic's on runtime.fatalpanic, the throw's on
		// several functions.
		want := []string{"panic.go", "<multiple locations>"}[i]
		if !b.Verified || b.Id != -1-i || b.Source == nil || b.Source.Name != want {
			t.Fatalf("exception breakpoint %d: %+v %+v", i, b, b.Source)
		}
	}
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	return c
}

// TestExceptionBreakpoints stops on an unrecovered panic and on a fatal
// throw with Delve's stop texts and exceptionInfo, and not at all when
// the client turned the filters off.
func TestExceptionBreakpoints(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "panicexit", fixture.Flavour{})
	t.Run("unrecovered panic", func(t *testing.T) {
		c := startWithFilters(t, "exec", bin, []string{"unrecovered-panic"})
		stop := expect[*dap.StoppedEvent](c).Body
		// By fatalpanic the runtime has turned the error into its message.
		const text = `"level 3 too deep: bad config"`
		if stop.Reason != "exception" || stop.Description != "panic" || stop.Text != text ||
			len(stop.HitBreakpointIds) != 1 || stop.HitBreakpointIds[0] != -1 {
			t.Fatalf("stopped %+v", stop)
		}
		seq := c.send("exceptionInfo", map[string]any{"threadId": stop.ThreadId})
		info := expectResponse[*dap.ExceptionInfoResponse](c, seq).Body
		if info.ExceptionId != "panic" || info.Description != text || info.Details == nil {
			t.Fatalf("exceptionInfo %+v", info)
		}
		st := info.Details.StackTrace
		if !strings.HasPrefix(st, "Stack:\n\t") || !strings.Contains(st, " in main.load\n\t    at "+fixture.Source("panicexit")+":19\n") ||
			!strings.Contains(st, " in main.main\n") || strings.Contains(st, "runtime.") {
			t.Fatalf("exception stack:\n%s", st)
		}
		seq = c.send("exceptionInfo", map[string]any{"threadId": 12345})
		if er := c.expectError(seq); er.Body.Error.Format != "Unable to get exception info: no exception found for goroutine 12345" {
			t.Fatalf("exceptionInfo of another goroutine: %+v", er.Body.Error)
		}
	})
	t.Run("filters off", func(t *testing.T) {
		c := startWithFilters(t, "exec", bin, []string{})
		if ex := expect[*dap.ExitedEvent](c); ex.Body.ExitCode != 2 {
			t.Fatalf("exit code %d, want the panic's 2", ex.Body.ExitCode)
		}
	})
	t.Run("fatal throw", func(t *testing.T) {
		// Built by the launch (mode debug) from a directory of its own.
		dir := t.TempDir()
		src := "package main\n\nfunc main() {\n\tselect {}\n}\n"
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module deadlock\n\ngo 1.22\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c := startWithFilters(t, "debug", dir, []string{"unrecovered-panic", "runtime-fatal-throw"})
		stop := expect[*dap.StoppedEvent](c).Body
		const text = `"all goroutines are asleep - deadlock!"`
		if stop.Reason != "exception" || stop.Description != "fatal error" || stop.Text != text || stop.HitBreakpointIds[0] != -2 {
			t.Fatalf("stopped %+v", stop)
		}
		seq := c.send("exceptionInfo", map[string]any{"threadId": stop.ThreadId})
		if info := expectResponse[*dap.ExceptionInfoResponse](c, seq).Body; info.ExceptionId != "fatal error" || info.Description != text {
			t.Fatalf("exceptionInfo %+v", info)
		}
	})
}
