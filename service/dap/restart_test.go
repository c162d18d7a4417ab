package dap

import (
	"syscall"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
)

// TestRestart restarts a launched program stopped at a breakpoint with
// new arguments: the client gets an initialized event, sets its
// breakpoint again and the new process stops there, then runs to its end
// with the new arguments; only the new process printed anything.
func TestRestart(t *testing.T) {
	testenv.RequirePtrace(t)
	src := fixture.Source("basic")
	c, top := launchStopped(t, map[string]any{"args": []string{"x"}}, src)
	if !c.initialize().Body.SupportsRestartRequest {
		t.Fatal("restart not announced")
	}
	seq := c.send("restart", map[string]any{"arguments": map[string]any{"request": "launch", "args": []string{"y", "z"}}})
	expectResponse[*dap.RestartResponse](c, seq)
	expect[*dap.InitializedEvent](c)
	// The old frame ids are gone with the old process.
	seq = c.send("scopes", map[string]any{"frameId": top.Id})
	c.expectError(seq)
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src}, "breakpoints": []map[string]any{{"line": 15}}})
	if bps := expectResponse[*dap.SetBreakpointsResponse](c, seq).Body.Breakpoints; len(bps) != 1 || !bps[0].Verified {
		t.Fatalf("breakpoints after restart: %+v", bps)
	}
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	c.checkTop(stop.ThreadId, "main.add", 15)
	seq = c.send("continue", map[string]any{"threadId": stop.ThreadId})
	expectResponse[*dap.ContinueResponse](c, seq)
	if ex := expect[*dap.ExitedEvent](c); ex.Body.ExitCode != 0 {
		t.Fatalf("exit code %d", ex.Body.ExitCode)
	}
	expect[*dap.TerminatedEvent](c)
	if out := c.output(); out != "pt(6,8) 7 14\nargs: [y z]\n" {
		t.Fatalf("output %q", out)
	}
}

// TestRestartRefused: nothing to restart before a launch, and a process
// tinydbg attached to is not its to restart.
func TestRestartRefused(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts)
	c.initialize()
	seq := c.send("restart", nil)
	if er := c.expectError(seq); er.Body.Error.Format != "Cannot restart: debugger is not running: Debugger is not running" {
		t.Fatalf("restart before launch: %+v", er.Body.Error)
	}

	testenv.RequirePtrace(t)
	cmd := testproc.StartPid(t, fixture.Build(t, "sleeper", fixture.Flavour{}))
	seq = c.send("attach", map[string]any{"mode": "local", "processId": cmd.Process.Pid})
	expect[*dap.CapabilitiesEvent](c)
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.AttachResponse](c, seq)
	seq = c.send("restart", nil)
	if er := c.expectError(seq); er.Body.Error.Format != "Cannot restart: cannot restart process tinydbg did not create" {
		t.Fatalf("restart of an attached process: %+v", er.Body.Error)
	}
	seq = c.send("disconnect", map[string]any{})
	expectResponse[*dap.DisconnectResponse](c, seq)
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the attached process is gone after a refused restart: %v", err)
	}
}
