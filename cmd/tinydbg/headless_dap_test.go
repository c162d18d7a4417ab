package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// dapConn is a minimal DAP client: requests with increasing seq, and a
// reader that keeps what it saw for failure messages.
type dapConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	seq  int
	seen []string
}

func dialDAP(t *testing.T, addr string) *dapConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return newDAPConn(t, conn)
}

func newDAPConn(t *testing.T, conn net.Conn) *dapConn {
	t.Cleanup(func() { conn.Close() })
	return &dapConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *dapConn) send(command string, args any) int {
	c.t.Helper()
	c.seq++
	b, _ := json.Marshal(map[string]any{"seq": c.seq, "type": "request", "command": command, "arguments": args})
	if err := dap.WriteBaseMessage(c.conn, b); err != nil {
		c.t.Fatal(err)
	}
	return c.seq
}

// waitFor reads messages until one whose JSON contains want, and returns it.
func (c *dapConn) waitFor(want string) string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		m, err := dap.ReadProtocolMessage(c.r)
		if err != nil {
			c.t.Fatalf("waiting for %s after %v: %v", want, c.seen, err)
		}
		b, _ := json.Marshal(m)
		c.seen = append(c.seen, string(b))
		if strings.Contains(string(b), want) {
			return string(b)
		}
	}
}

// TestHeadlessServesDAP attaches in mode "remote" to a multi-client
// headless server, as VS Code's Go extension does, stops at a breakpoint,
// disconnects leaving the target, checks that a JSON-RPC client on the
// same port finds it stopped there, then ends it from a second DAP client.
func TestHeadlessServesDAP(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	addr, server := startHeadless(t, "--accept-multiclient", "exec", bin)

	c := dialDAP(t, addr)
	c.send("initialize", map[string]any{"adapterID": "go", "linesStartAt1": true})
	c.waitFor(`"command":"initialize","body":{"supportsConfigurationDoneRequest":true`)
	c.send("launch", map[string]any{"mode": "exec", "program": bin})
	if got := c.waitFor(`"command":"launch"`); !strings.Contains(got, `"success":false`) ||
		!strings.Contains(got, "debug session already in progress at "+addr+" - use remote mode") {
		t.Fatalf("launch on a headless server: %s", got)
	}
	c.send("attach", map[string]any{"mode": "remote", "request": "attach"})
	c.waitFor(`"supportTerminateDebuggee":true`)
	c.waitFor(`"event":"initialized"`)
	c.waitFor(`"success":true,"command":"attach"`)
	c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixtureDir("basic") + "/main.go"},
		"breakpoints": []map[string]any{{"line": 14}}})
	c.waitFor(`"success":true,"command":"setBreakpoints"`)
	c.send("configurationDone", map[string]any{})
	c.waitFor(`"reason":"breakpoint"`)
	c.send("stackTrace", map[string]any{"threadId": 1, "levels": 1})
	if got := c.waitFor(`"command":"stackTrace"`); !strings.Contains(got, `"name":"main.add","source":{"name":"main.go"`) ||
		!strings.Contains(got, `"line":14`) {
		t.Fatalf("stack: %s", got)
	}
	c.send("disconnect", map[string]any{})
	if got := c.waitFor(`"category":"console"`); !strings.Contains(got,
		"Closing client session, but leaving multi-client DAP server at "+addr+" with debuggee halted") {
		t.Fatalf("disconnect said %s", got)
	}
	c.waitFor(`"success":true,"command":"disconnect"`)
	c.waitFor(`"event":"terminated"`)

	// JSON-RPC on the same port finds the target where DAP left it.
	rc, err := rpc2.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	st, err := rc.GetState()
	if err != nil {
		t.Fatal(err)
	}
	if th := st.CurrentThread; th == nil || th.Function == nil || th.Function.Name() != "main.add" || th.Line != 14 {
		t.Fatalf("state after the DAP client left: %+v", st.CurrentThread)
	}
	rc.Close()

	c2 := dialDAP(t, addr)
	c2.send("initialize", map[string]any{"adapterID": "go"})
	c2.waitFor(`"command":"initialize"`)
	c2.send("attach", map[string]any{"mode": "remote"})
	c2.waitFor(`"success":true,"command":"attach"`)
	c2.send("disconnect", map[string]any{"terminateDebuggee": true})
	c2.waitFor(`"success":true,"command":"disconnect"`)
	done := make(chan error, 1)
	go func() { done <- server.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the headless server kept running after a DAP client terminated the debuggee")
	}
}

// TestDAPClientAddr runs `tinydbg dap --client-addr`: the server dials the
// waiting client, serves its launch session and exits with it.
func TestDAPClientAddr(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd := exec.Command(tinydbgBin, "dap", "--disable-aslr", "--client-addr="+l.Addr().String())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	conn, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c := newDAPConn(t, conn)
	c.send("initialize", map[string]any{"adapterID": "go"})
	c.waitFor(`"command":"initialize"`)
	c.send("launch", map[string]any{"mode": "exec", "program": bin, "args": []string{"x"}})
	var pe dap.ProcessEvent
	if err := json.Unmarshal([]byte(c.waitFor(`"event":"process"`)), &pe); err != nil {
		t.Fatal(err)
	}
	// --disable-aslr reaches the DAP server's launches.
	pers, err := os.ReadFile(fmt.Sprintf("/proc/%d/personality", pe.Body.SystemProcessId))
	if p, perr := strconv.ParseUint(strings.TrimSpace(string(pers)), 16, 32); err != nil || perr != nil || p&0x0040000 == 0 {
		t.Errorf("personality of the launched program %q (%v)", pers, err)
	}
	c.waitFor(`"success":true,"command":"launch"`)
	c.send("configurationDone", map[string]any{})
	c.waitFor(`"output":"pt(6,8) 7 14\n`) // args may follow in the same event
	c.waitFor(`"event":"exited","body":{"exitCode":0}`)
	c.send("disconnect", map[string]any{})
	c.waitFor(`"success":true,"command":"disconnect"`)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("tinydbg dap --client-addr: %v; stderr %q", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("tinydbg dap --client-addr kept running after its session")
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing: there is no address to announce", stdout.String())
	}
	bad := run(t, t.TempDir(), "", "dap", "--listen=127.0.0.1:0", "--client-addr=127.0.0.1:1")
	if bad.code == 0 || bad.stderr != "Error: --listen and --client-addr exclude each other: the server either listens or dials its client\n" {
		t.Fatalf("both flags: code %d, stderr %q", bad.code, bad.stderr)
	}
}

// TestHeadlessSingleClientDAP: without --accept-multiclient the server
// serves its one DAP client and exits when it disconnects, the launched
// program killed, as dlv does.
func TestHeadlessSingleClientDAP(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	addr, server := startHeadless(t, "exec", bin)
	c := dialDAP(t, addr)
	c.send("initialize", map[string]any{"adapterID": "go"})
	c.waitFor(`"command":"initialize"`)
	c.send("attach", map[string]any{"mode": "remote", "stopOnEntry": true})
	if got := c.waitFor(`"event":"`); strings.Contains(got, "supportTerminateDebuggee") {
		t.Fatalf("a launched program on a single-client server can only be ended, yet: %s", got)
	}
	c.waitFor(`"success":true,"command":"attach"`)
	c.send("configurationDone", map[string]any{})
	c.waitFor(`"reason":"entry"`)
	c.send("disconnect", map[string]any{})
	c.waitFor(`"success":true,"command":"disconnect"`)
	done := make(chan error, 1)
	go func() { done <- server.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the single-client headless server kept running after its DAP client left")
	}
}
