package dap

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
)

// untilTerminated reads messages up to the terminated event and returns
// the stderr output events seen on the way; no stop may be reported.
func (c *testClient) untilTerminated() []string {
	c.t.Helper()
	var stderr []string
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				c.t.Fatalf("connection closed: %v", <-c.errs)
			}
			switch v := m.(type) {
			case *dap.TerminatedEvent:
				return stderr
			case *dap.OutputEvent:
				if v.Body.Category == "stderr" {
					stderr = append(stderr, v.Body.Output)
				}
			case *dap.StoppedEvent:
				c.t.Fatalf("stop reported by a run that panicked: %+v", v.Body)
			}
		case <-time.After(30 * time.Second):
			c.t.Fatal("timed out waiting for the terminated event")
		}
	}
}

// A panic on the run goroutine ends the session with one line of error,
// and the attached program is detached with its code restored: it runs
// on, untraced, instead of staying stopped at a breakpoint.
func TestRunLoopPanicReleasesTarget(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "sleeper", fixture.Flavour{})
	cmd := testproc.StartPid(t, bin)
	pid := cmd.Process.Pid

	var faults atomic.Int32
	runFault = func() {
		if faults.Add(1) == 1 {
			panic("injected run fault")
		}
	}
	t.Cleanup(func() { runFault = nil })

	ts := startServer(t)
	c := dial(t, ts)
	c.initialize()
	seq := c.send("attach", map[string]any{"mode": "local", "processId": pid})
	expect[*dap.CapabilitiesEvent](c)
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.AttachResponse](c, seq)
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("sleeper")}, "breakpoints": []map[string]any{{"line": 12}}})
	if bp := expectResponse[*dap.SetBreakpointsResponse](c, seq).Body.Breakpoints; len(bp) != 1 || !bp[0].Verified {
		t.Fatalf("breakpoints: %+v", bp)
	}
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)

	// The first command returns at the breakpoint, and the fault hits.
	const want = "internal error while running the target: injected run fault; ending the session\n"
	if got := c.untilTerminated(); len(got) != 1 || got[0] != want {
		t.Fatalf("stderr output: %q, want %q", got, want)
	}
	if n := strings.Count(ts.log.String(), "injected run fault"); n != 1 {
		t.Fatalf("log mentions the fault %d times, want once:\n%s", n, ts.log)
	}
	if tp := testproc.TracerPid(pid); tp != 0 {
		t.Fatalf("the sleeper's tracer after the fault: %d, want none", tp)
	}
	if file, mem := textOf(t, bin, pid); !bytes.Equal(file, mem) {
		t.Fatal("breakpoint instructions left in the text after the fault")
	}
	time.Sleep(300 * time.Millisecond)
	if st := procState(pid); st != "S" && st != "R" {
		t.Fatalf("sleeper state %q after the fault", st)
	}

	seq = c.send("disconnect", map[string]any{"terminateDebuggee": false})
	expectResponse[*dap.DisconnectResponse](c, seq)
	expect[*dap.TerminatedEvent](c)
	c.expectClosed()
	ts.wait(t)
	if faults.Load() != 1 {
		t.Fatalf("%d commands ran on the run goroutine, want 1", faults.Load())
	}
}

// A launched program is killed when the run goroutine panics: the session
// ends and nothing of the program stays stopped.
func TestRunLoopPanicKillsLaunched(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	runFault = func() { panic("injected run fault") }
	t.Cleanup(func() { runFault = nil })

	ts := startServer(t)
	c := dial(t, ts)
	c.launch(map[string]any{"mode": "exec", "program": bin})
	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("basic")}, "breakpoints": []map[string]any{{"line": 14}}})
	expectResponse[*dap.SetBreakpointsResponse](c, seq)
	pid := targetPid(t, ts)
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	const want = "internal error while running the target: injected run fault; ending the session\n"
	if got := c.untilTerminated(); len(got) != 1 || got[0] != want {
		t.Fatalf("stderr output: %q, want %q", got, want)
	}
	if st := procState(pid); st != "" {
		t.Fatalf("target %d still there in state %s", pid, st)
	}
	seq = c.send("disconnect", nil)
	expectResponse[*dap.DisconnectResponse](c, seq)
	expect[*dap.TerminatedEvent](c)
	c.expectClosed()
	ts.wait(t)
}
