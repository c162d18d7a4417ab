package dap

import (
	"net"
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// serveShared serves DAP sessions against d as a multi-client headless
// server does, one connection after another, until the test ends.
func serveShared(t *testing.T, d *debugger.Debugger) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: l.Addr().String(), log: &syncBuffer{}, done: make(chan struct{})}
	go func() {
		defer close(ts.done)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			ServeShared(conn, SharedConfig{Debugger: d, AcceptMulti: true, Addr: ts.addr, Log: ts.log})
		}
	}()
	t.Cleanup(func() { l.Close(); ts.wait(t) })
	return ts
}

// TestRestartRemote: a client attached in mode "remote" to a multi-client
// server restarts the program the server launched, as with dlv: the
// response comes first, then initialized; the new process (another pid)
// stops again at the breakpoint the old one had passed, and the logpoint
// runs in the kernel on the new process, the old one's probes removed.
func TestRestartRemote(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	d, err := debugger.New(debugger.Config{Path: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Detach(true) })
	oldPid := d.ProcessPid()
	c := dial(t, serveShared(t, d))
	c.initialize()
	seq := c.send("attach", map[string]any{"mode": "remote"})
	expect[*dap.CapabilitiesEvent](c)
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.AttachResponse](c, seq)
	before := testenv.BPFLinks(t)
	var during int
	configure := func() {
		seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src}, "breakpoints": []map[string]any{
			{"line": 14, "logMessage": "a={a} b={b}"}, {"line": 15}}})
		expectResponse[*dap.SetBreakpointsResponse](c, seq)
		during = testenv.BPFLinks(t)
		seq = c.send("configurationDone", nil)
		expectResponse[*dap.ConfigurationDoneResponse](c, seq)
		logged, stop := waitStop(t, c)
		c.checkTop(stop.Body.ThreadId, "main.add", 15)
		if strings.Join(logged, "") != "> [Go 1]: a=3 b=4\n" {
			t.Fatalf("logged %q", logged)
		}
	}
	configure()
	seq = c.send("restart", map[string]any{"arguments": map[string]any{"request": "launch", "args": []string{"y"}}})
	expectResponse[*dap.RestartResponse](c, seq)
	expect[*dap.InitializedEvent](c)
	if d.ProcessPid() == oldPid {
		t.Fatalf("still pid %d after restart", oldPid)
	}
	// The old process's probes are gone; the logpoint, which the server
	// keeps, is probed again on the new one.
	if n := testenv.BPFLinks(t); n != during || during <= before {
		t.Errorf("%d BPF links after restart, %d before it, %d before the logpoint", n, during, before)
	}
	configure()
	seq = c.send("disconnect", map[string]any{"terminateDebuggee": true})
	expectResponse[*dap.DisconnectResponse](c, seq)
	if n := testenv.BPFLinks(t); n != before {
		t.Errorf("%d BPF links after disconnect, %d before", n, before)
	}
}
