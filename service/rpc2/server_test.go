package rpc2_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// session is a server on a loopback TCP port serving one launched fixture.
type session struct {
	addr string
	srv  *rpc2.Server
	done chan struct{} // closed when Serve returns
	err  error         // what Serve returned
}

// start launches fixture name under a server; the server and target are
// gone when the test ends.
func start(t *testing.T, name string, multi bool) *session {
	t.Helper()
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, name, fixture.Flavour{})
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devnull.Close() })
	d, err := debugger.New(debugger.Config{Path: bin, Stdout: devnull, Stderr: devnull})
	if err != nil {
		t.Fatalf("launching %s: %v", name, err)
	}
	var banner strings.Builder
	l, err := rpc2.Listen("", &banner, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := "API server listening at: " + l.Addr().String() + "\n"
	if banner.String() != want || !strings.HasPrefix(l.Addr().String(), "127.0.0.1:") {
		t.Fatalf("banner %q, want %q on 127.0.0.1", banner.String(), want)
	}
	srv, err := rpc2.NewServer(rpc2.Config{AcceptMulti: multi, Stderr: io.Discard}, d)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{addr: l.Addr().String(), srv: srv, done: make(chan struct{})}
	go func() {
		s.err = srv.Serve(l)
		close(s.done)
	}()
	t.Cleanup(func() {
		srv.Stop()
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			t.Errorf("server did not stop")
		}
	})
	return s
}

func (s *session) client(t *testing.T) *rpc2.Client {
	t.Helper()
	c, err := rpc2.Dial(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var shortCfg = api.LoadConfig{FollowPointers: true, MaxVariableRecurse: 1, MaxStringLen: 64, MaxArrayValues: 64, MaxStructFields: -1}

func wantStop(t *testing.T, what string, st *api.DebuggerState, err error, fn string, line int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	th := st.CurrentThread
	if th == nil || th.Function.Name() != fn || th.Line != line {
		t.Fatalf("%s: stopped at %+v, want %s line %d", what, th, fn, line)
	}
	if filepath.Base(th.File) != "main.go" {
		t.Fatalf("%s: file %q", what, th.File)
	}
}

func varValue(t *testing.T, vars []api.Variable, name string) string {
	t.Helper()
	for _, v := range vars {
		if v.Name == name {
			return v.Value
		}
	}
	t.Fatalf("no variable %s in %+v", name, vars)
	return ""
}

// TestBasicSession drives the basic fixture through our own client.
func TestBasicSession(t *testing.T) {
	s := start(t, "basic", false)
	c := s.client(t)

	bp, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.add"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if bp.ID != 1 || bp.Line != 13 || bp.FunctionName != "main.add" || len(bp.Addrs) != 1 || bp.Addr != bp.Addrs[0] {
		t.Fatalf("breakpoint %+v", bp)
	}
	st, err := c.Continue()
	wantStop(t, "continue", st, err, "main.add", 13) // the func line, as in Delve
	if st.CurrentThread.Breakpoint == nil || st.CurrentThread.Breakpoint.ID != 1 || st.CurrentThread.Breakpoint.TotalHitCount != 1 {
		t.Fatalf("thread breakpoint %+v", st.CurrentThread.Breakpoint)
	}
	if st.SelectedGoroutine == nil || st.SelectedGoroutine.ID != 1 || st.StopReason != "breakpoint" {
		t.Fatalf("goroutine %+v reason %q", st.SelectedGoroutine, st.StopReason)
	}
	args, err := c.ListFunctionArgs(api.EvalScope{GoroutineID: -1}, shortCfg)
	if err != nil {
		t.Fatal(err)
	}
	if varValue(t, args, "a") != "3" || varValue(t, args, "b") != "4" {
		t.Fatalf("args %+v", args)
	}
	frames, err := c.Stacktrace(-1, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 2 || frames[0].Function.Name() != "main.add" || frames[1].Function.Name() != "main.main" || frames[1].Line != 32 {
		t.Fatalf("frames %+v", frames)
	}
	st, err = c.Next()
	wantStop(t, "next", st, err, "main.add", 14)
	st, err = c.Next()
	wantStop(t, "next", st, err, "main.add", 15)
	locals, err := c.ListLocalVars(api.EvalScope{GoroutineID: -1}, shortCfg)
	if err != nil {
		t.Fatal(err)
	}
	if varValue(t, locals, "sum") != "7" {
		t.Fatalf("locals %+v", locals)
	}
	c.ReturnInfoLoadConfig = &shortCfg
	st, err = c.StepOut()
	wantStop(t, "stepout", st, err, "main.main", 32)
	rv := st.CurrentThread.ReturnValues
	if len(rv) != 1 || rv[0].Name != "~r0" || rv[0].Value != "7" {
		t.Fatalf("return values %+v", rv)
	}
	v, err := c.Eval(api.EvalScope{GoroutineID: -1}, "counter", shortCfg)
	if err != nil || v.Value != "7" || v.Type != "int" {
		t.Fatalf("eval counter: %+v, %v", v, err)
	}
	if _, err := c.ClearBreakpoint(1); err != nil {
		t.Fatal(err)
	}
	// Only the two default breakpoints (unrecovered-panic, runtime-fatal-throw) remain.
	if bps, err := c.ListBreakpoints(); err != nil || len(bps) != 2 || bps[0].ID >= 0 || bps[1].ID >= 0 {
		t.Fatalf("breakpoints after clear: %v %v", bps, err)
	}
	st, err = c.Continue()
	if err != nil || !st.Exited || st.ExitStatus != 0 {
		t.Fatalf("continue to exit: %+v %v", st, err)
	}
	if _, err := c.GetState(); err == nil || !strings.Contains(err.Error(), "has exited with status 0") {
		t.Fatalf("state after exit: %v", err)
	}
	// Delve's Command answers a step on the exited process with its
	// exited state, not with an error.
	if st2, err := c.Step(); err != nil || !st2.Exited || st2.ExitStatus != 0 || st2.Pid != st.Pid {
		t.Fatalf("step after exit: %+v %v", st2, err)
	}
	if err := c.Detach(true); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
		if s.err != nil {
			t.Fatalf("serve: %v", s.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop after detach")
	}
}

// rawConn speaks JSON-RPC by hand.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

type rawReply struct {
	ID     *int            `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *string         `json:"error"`
}

func (c *rawConn) read(t *testing.T) rawReply {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		t.Fatalf("reading reply: %v", err)
	}
	var r rawReply
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatalf("reply %q: %v", line, err)
	}
	return r
}

// TestMalformedAndPipelined checks error replies, that a client sending
// garbage is dropped while others are served, and that a pipelined batch
// is answered in full.
func TestMalformedAndPipelined(t *testing.T) {
	s := start(t, "basic", true)
	bad := dialRaw(t, s.addr)
	good := dialRaw(t, s.addr)

	// A pipelined batch, written at once, including an unknown method and
	// bad parameters: every request gets its own reply.
	batch := `{"method":"RPCServer.SetApiVersion","params":[{"APIVersion":2}],"id":1}
{"method":"RPCServer.NoSuchMethod","params":[{}],"id":2}
{"method":"RPCServer.CreateBreakpoint","params":[{"Breakpoint":{"functionName":"main.describe"}}],"id":3}
{"method":"RPCServer.ListBreakpoints","params":[{}],"id":4}
{"method":"RPCServer.GetBreakpoint","params":[{"Id":"one"}],"id":5}
{"method":"RPCServer.SetApiVersion","params":[{"APIVersion":1}],"id":6}
{"method":"RPCServer.ProcessPid","params":[{}],"id":7}
`
	if _, err := good.Write([]byte(batch)); err != nil {
		t.Fatal(err)
	}
	replies := map[int]rawReply{}
	for range 7 {
		r := good.read(t)
		if r.ID == nil {
			t.Fatalf("reply without id: %+v", r)
		}
		replies[*r.ID] = r
	}
	if r := replies[1]; r.Error != nil {
		t.Fatalf("SetApiVersion: %v", *r.Error)
	}
	if r := replies[2]; r.Error == nil || *r.Error != "unknown method: RPCServer.NoSuchMethod" {
		t.Fatalf("unknown method reply: %+v", r)
	}
	var created struct{ Breakpoint api.Breakpoint }
	if r := replies[3]; r.Error != nil || json.Unmarshal(r.Result, &created) != nil || created.Breakpoint.FunctionName != "main.describe" || created.Breakpoint.Line != 23 {
		t.Fatalf("create: %+v %s", r, r.Result)
	}
	var listed struct{ Breakpoints []api.Breakpoint }
	if r := replies[4]; r.Error != nil || json.Unmarshal(r.Result, &listed) != nil || len(listed.Breakpoints) != 3 || listed.Breakpoints[2].ID != created.Breakpoint.ID {
		t.Fatalf("list: %+v %s", r, r.Result)
	}
	if r := replies[5]; r.Error == nil || !strings.Contains(*r.Error, "malformed request parameters") {
		t.Fatalf("bad params reply: %+v", r)
	}
	if r := replies[6]; r.Error == nil || !strings.Contains(*r.Error, "API v2 only") {
		t.Fatalf("API v1 reply: %+v", r)
	}
	if r := replies[7]; r.Error != nil || !strings.Contains(string(r.Result), `"Pid":`) {
		t.Fatalf("pid reply: %+v %s", r, r.Result)
	}

	// Garbage: one error reply, then the server hangs up on that client.
	bad.Write([]byte("{\"method\": \"RPCServer.State\", \"params\": [{]}\n"))
	r := bad.read(t)
	if r.Error == nil || !strings.Contains(*r.Error, "malformed request") {
		t.Fatalf("garbage reply: %+v", r)
	}
	bad.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := bad.r.ReadByte(); err == nil {
		t.Fatal("connection still open after garbage")
	}

	// The other client and the target are unharmed.
	c := s.client(t)
	st, err := c.Continue()
	wantStop(t, "continue after garbage", st, err, "main.describe", 23)
}

// TestHaltDuringContinue halts a continue from the same connection and
// checks that a non-blocking State sees the target running meanwhile.
func TestHaltDuringContinue(t *testing.T) {
	s := start(t, "sleeper", false)
	c := s.client(t)
	before := runtime.NumGoroutine()
	type result struct {
		st  *api.DebuggerState
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := c.Continue()
		done <- result{st, err}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := c.GetStateNonBlocking()
		if err != nil {
			t.Fatal(err)
		}
		if st.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("target never reported running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	hst, err := c.Halt()
	if err != nil {
		t.Fatalf("halt: %v", err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("continue did not return after halt")
	}
	if res.err != nil || res.st.Exited || res.st.Running || hst.Running {
		t.Fatalf("continue after halt: %+v %v; halt state %+v", res.st, res.err, hst)
	}
	if res.st.StopReason != "manual" {
		t.Fatalf("stop reason %q", res.st.StopReason)
	}
	// The program is alive: breaking in its loop works.
	if _, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.tick"}, ""); err != nil {
		t.Fatal(err)
	}
	st, err := c.Continue()
	wantStop(t, "continue to tick", st, err, "main.tick", 11)
	v, err := c.Eval(api.EvalScope{GoroutineID: -1}, "main.ticks", shortCfg)
	if err != nil || v.Value == "" || v.Value == "0" {
		t.Fatalf("ticks: %+v %v", v, err)
	}
	if after := runtime.NumGoroutine(); after > before+1 {
		t.Fatalf("goroutines: %d before, %d after", before, after)
	}
}

// TestDisconnectDuringContinue drops a client while its continue runs; the
// multiclient server halts nothing, keeps the target, and serves the next
// client, which can halt it. No goroutine survives the server.
func TestDisconnectDuringContinue(t *testing.T) {
	before := runtime.NumGoroutine()
	s := start(t, "sleeper", true)
	c1, err := rpc2.Dial(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	go c1.Continue()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := c1.GetStateNonBlocking()
		if err == nil && st.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("target never reported running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c1.Close()
	c2 := s.client(t)
	st, err := c2.GetStateNonBlocking()
	if err != nil || !st.Running {
		t.Fatalf("second client state: %+v %v", st, err)
	}
	if st, err := c2.Halt(); err != nil || st.Running {
		t.Fatalf("halt from second client: %+v %v", st, err)
	}
	if multi, err := c2.IsMulticlient(); err != nil || !multi {
		t.Fatalf("multiclient: %v %v", multi, err)
	}
	if err := c2.Detach(true); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop after detach")
	}
	s.srv.Wait()
	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
