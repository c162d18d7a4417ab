package dap

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
)

// TestMalformedInput sends what a broken client might: an unknown
// command gets an error response and the session goes on; a message that
// cannot be framed or parsed closes the connection with one log line.
func TestMalformedInput(t *testing.T) {
	t.Run("unknown command", func(t *testing.T) {
		ts := startServer(t)
		c := dial(t, ts)
		seq := c.send("frobnicate", map[string]any{"x": 1})
		if er := c.expectError(seq); er.Command != "frobnicate" || er.Message != "Unsupported command" {
			t.Fatalf("error response: %+v", er)
		}
		// A request that needs a target before any launch.
		seq = c.send("threads", nil)
		if er := c.expectError(seq); er.Message != "No debug session started" {
			t.Fatalf("threads before launch: %+v", er)
		}
		seq = c.send("launch", map[string]any{"mode": "exec"})
		if er := c.expectError(seq); er.Body.Error.Format != "Failed to launch: The program attribute is missing in debug configuration." {
			t.Fatalf("launch without program: %+v", er.Body.Error)
		}
		seq = c.send("launch", map[string]any{"mode": "exec", "program": "/nonexistent/binary"})
		c.expectError(seq)
		seq = c.send("launch", map[string]any{"mode": "replay", "program": "x"})
		c.expectError(seq)
		c.initialize() // still serving
		seq = c.send("disconnect", nil)
		expectResponse[*dap.DisconnectResponse](c, seq)
		expect[*dap.TerminatedEvent](c)
		c.expectClosed()
		ts.wait(t)
	})
	t.Run("no type", func(t *testing.T) {
		// dlv dap answers these with an internal error naming the message,
		// its request_seq the message's seq, and keeps the session.
		ts := startServer(t)
		c := dial(t, ts)
		for _, m := range []struct {
			raw    string
			seq    int
			format string
		}{
			{`{"seq":7,"command":"initialize","arguments":{}}`, 7, "Internal Error: ProtocolMessage type '' is not supported (seq: 7)"},
			{`{"seq":8,"type":"event","event":"foo"}`, 8, "Internal Error: Event event 'foo' is not supported (seq: 8)"},
		} {
			if err := dap.WriteBaseMessage(c.conn, []byte(m.raw)); err != nil {
				t.Fatal(err)
			}
			er := expect[*dap.ErrorResponse](c)
			if er.Success || er.RequestSeq != m.seq || er.Command != "" ||
				er.Message != "Internal Error" || er.Body.Error.Id != errInternal || er.Body.Error.Format != m.format {
				t.Fatalf("reply to %s: %+v %+v", m.raw, er, er.Body.Error)
			}
		}
		c.initialize() // still serving
	})
	for _, tc := range []struct {
		name, raw, log string
	}{
		{"bad json", "Content-Length: 5\r\n\r\n{bad}", "malformed message"},
		{"json of the wrong shape", "Content-Length: 47\r\n\r\n" + `{"seq":1,"type":"request","command":"launch",1}`, "malformed message"},
		{"bad content length", "Content-Length: abc\r\n\r\n{}", "unreadable message"},
		{"no content length", "Content-Type: x\r\n\r\n{}", "unreadable message"},
		{"content too long", "Content-Length: 99999999999\r\n\r\n", "unreadable message"},
		{"bad delimiter", "Content-Length: 2\r\nXX{}", "unreadable message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t)
			c := dial(t, ts)
			if _, err := c.conn.Write([]byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			c.expectClosed()
			ts.wait(t)
			lines := strings.Split(strings.TrimSpace(ts.log.String()), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "dap: closing the connection: "+tc.log) {
				t.Fatalf("log %q, want a line about a %s", ts.log.String(), tc.log)
			}
		})
	}
}

// procState is the state letter of pid from /proc, "" once it is gone
// (or a zombie: reaped or not, it no longer runs).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) == 0 || f[0] == "Z" || f[0] == "X" {
		return ""
	}
	return f[0]
}

// targetPid is the pid of the session's target.
func targetPid(t *testing.T, ts *testServer) int {
	t.Helper()
	ts.srv.mu.Lock()
	defer ts.srv.mu.Unlock()
	if ts.srv.sess == nil || ts.srv.sess.dbg == nil {
		t.Fatal("no target")
	}
	return ts.srv.sess.dbg.ProcessPid()
}

// waitGoroutines waits for the goroutine count to come back to base.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before the session:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClientVanishes closes the connection in the middle of a session,
// stopped and then running: the launched target is killed and nothing of
// the session is left running.
func TestClientVanishes(t *testing.T) {
	testenv.RequirePtrace(t)
	basic := fixture.Build(t, "basic", fixture.Flavour{})
	sleeper := fixture.Build(t, "sleeper", fixture.Flavour{})
	for _, running := range []bool{false, true} {
		t.Run(fmt.Sprintf("running=%v", running), func(t *testing.T) {
			base := runtime.NumGoroutine()
			ts := startServer(t)
			c := dial(t, ts)
			bin := basic
			if running {
				bin = sleeper
			}
			c.launch(map[string]any{"mode": "exec", "program": bin})
			if !running {
				seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("basic")}, "breakpoints": []map[string]any{{"line": 14}}})
				expectResponse[*dap.SetBreakpointsResponse](c, seq)
			}
			seq := c.send("configurationDone", nil)
			expectResponse[*dap.ConfigurationDoneResponse](c, seq)
			if !running {
				expect[*dap.StoppedEvent](c)
			}
			pid := targetPid(t, ts)
			c.conn.Close()
			ts.wait(t)
			if st := procState(pid); st != "" {
				t.Fatalf("target %d still there in state %s", pid, st)
			}
			waitGoroutines(t, base)
		})
	}
}

// TestPauseAndEditWhileRunning pauses a running program, then sets a
// breakpoint while it runs: the server stops it for the edit, resumes it,
// and reports the breakpoint when it is hit. Disconnecting kills it.
func TestPauseAndEditWhileRunning(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "sleeper", fixture.Flavour{})
	ts := startServer(t)
	c := dial(t, ts)
	c.launch(map[string]any{"mode": "exec", "program": bin})
	seq := c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	pid := targetPid(t, ts)

	seq = c.send("threads", nil)
	if th := expectResponse[*dap.ThreadsResponse](c, seq).Body.Threads; len(th) != 1 || th[0].Id != -1 {
		t.Fatalf("threads while running: %+v", th)
	}
	seq = c.send("stackTrace", map[string]any{"threadId": 1})
	if er := c.expectError(seq); er.Body.Error.Id != errDebuggeeIsRunning {
		t.Fatalf("stackTrace while running: %+v", er.Body.Error)
	}
	seq = c.send("pause", map[string]any{"threadId": -1})
	expectResponse[*dap.PauseResponse](c, seq)
	if stop := expect[*dap.StoppedEvent](c).Body; stop.Reason != "pause" || !stop.AllThreadsStopped {
		t.Fatalf("stopped after pause: %+v", stop)
	}
	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)

	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("sleeper")}, "breakpoints": []map[string]any{{"line": 12}}})
	bp := expectResponse[*dap.SetBreakpointsResponse](c, seq).Body.Breakpoints[0]
	if !bp.Verified || bp.Line != 12 {
		t.Fatalf("breakpoint set while running: %+v", bp)
	}
	stop := expect[*dap.StoppedEvent](c).Body
	if stop.Reason != "breakpoint" || stop.HitBreakpointIds[0] != bp.Id {
		t.Fatalf("stopped: %+v", stop)
	}
	c.checkTop(stop.ThreadId, "main.tick", 12)

	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	seq = c.send("disconnect", map[string]any{"terminateDebuggee": true})
	expectResponse[*dap.DisconnectResponse](c, seq)
	expect[*dap.TerminatedEvent](c)
	c.expectClosed()
	ts.wait(t)
	if st := procState(pid); st != "" {
		t.Fatalf("target %d still there in state %s", pid, st)
	}
}

// textOf returns the .text section of the executable and of the process
// running it (the fixture is not PIE: the section's address is its own).
func textOf(t *testing.T, path string, pid int) (file, mem []byte) {
	t.Helper()
	file, addr := testproc.Text(t, path)
	return file, testproc.Memory(t, pid, addr, len(file))
}

// TestAttachDetach attaches to a running sleeper, stops it at a
// breakpoint and disconnects without terminating it: it runs on, untraced,
// its code exactly the file's.
func TestAttachDetach(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "sleeper", fixture.Flavour{})
	cmd := testproc.StartPid(t, bin)
	pid := cmd.Process.Pid

	ts := startServer(t)
	c := dial(t, ts)
	c.initialize()
	seq := c.send("attach", map[string]any{"mode": "local", "processId": pid})
	if ev := expect[*dap.CapabilitiesEvent](c); !ev.Body.Capabilities.SupportTerminateDebuggee {
		t.Fatalf("capabilities event: %+v", ev.Body)
	}
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.AttachResponse](c, seq)
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("sleeper")}, "breakpoints": []map[string]any{{"line": 12}}})
	expectResponse[*dap.SetBreakpointsResponse](c, seq)
	seq = c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main.tick"}}})
	expectResponse[*dap.SetFunctionBreakpointsResponse](c, seq)
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	if stop.Reason != "function breakpoint" && stop.Reason != "breakpoint" {
		t.Fatalf("stopped: %+v", stop)
	}
	top := c.stack(stop.ThreadId, 0, 1).Body.StackFrames[0]
	if top.Name != "main.tick" {
		t.Fatalf("stopped in %+v", top)
	}
	// With the breakpoints in place the text differs from the file.
	if file, mem := textOf(t, bin, pid); bytes.Equal(file, mem) {
		t.Fatal("no breakpoint instruction in the text while stopped at a breakpoint")
	}

	seq = c.send("disconnect", map[string]any{"terminateDebuggee": false})
	expectResponse[*dap.DisconnectResponse](c, seq)
	expect[*dap.TerminatedEvent](c)
	c.expectClosed()
	ts.wait(t)

	switch tp := testproc.TracerPid(pid); tp {
	case -1:
		t.Fatal("the sleeper is gone")
	case 0:
	default:
		t.Fatalf("the sleeper is still traced by %d", tp)
	}
	file, mem := textOf(t, bin, pid)
	if !bytes.Equal(file, mem) {
		for i := range file {
			if file[i] != mem[i] {
				t.Fatalf("text differs from the file at offset %#x: %#x, file has %#x", i, mem[i], file[i])
			}
		}
	}
	// It still runs: its state is sleeping or running, never stopped.
	time.Sleep(300 * time.Millisecond)
	if st := procState(pid); st != "S" && st != "R" {
		t.Fatalf("sleeper state %q after detach", st)
	}
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("sleeper: %v", err)
	}
}

// TestListenWarnsForRemoteAddresses checks the warning for an address
// other machines can reach.
func TestListenWarnsForRemoteAddresses(t *testing.T) {
	var stdout, stderr bytes.Buffer
	l, err := Listen("0.0.0.0:0", &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if stdout.String() != fmt.Sprintf("DAP server listening at: [::]:%d\n", port) && stdout.String() != fmt.Sprintf("DAP server listening at: 0.0.0.0:%d\n", port) {
		t.Fatalf("stdout %q", stdout.String())
	}
	if !strings.HasPrefix(stderr.String(), "WARNING: the DAP server listens on ") || strings.Count(stderr.String(), "\n") != 2 {
		t.Fatalf("stderr %q", stderr.String())
	}
}
