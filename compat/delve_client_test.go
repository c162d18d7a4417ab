package compat

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-delve/delve/service/api"
	delverpc "github.com/go-delve/delve/service/rpc2"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/debugger"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// serve launches the basic fixture under an in-process tinydbg server on
// a loopback port and returns its address and a channel closed when the
// server has stopped.
func serve(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	return serveFixture(t, "basic")
}

// serveFixture is serve for any fixture.
func serveFixture(t *testing.T, name string) (string, <-chan struct{}) {
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
		t.Fatalf("launch: %v", err)
	}
	l, err := rpc2.Listen("127.0.0.1:0", io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := rpc2.NewServer(rpc2.Config{Version: "test"}, d)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		if err := srv.Serve(l); err != nil {
			t.Errorf("serve: %v", err)
		}
		close(done)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return l.Addr().String(), done
}

var loadCfg = api.LoadConfig{FollowPointers: true, MaxVariableRecurse: 1, MaxStringLen: 64, MaxArrayValues: 64, MaxStructFields: -1}

// stopAt asserts the current thread's function and line.
func stopAt(t *testing.T, what string, st *api.DebuggerState, err error, fn string, line int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if st.Exited {
		t.Fatalf("%s: process exited (%d)", what, st.ExitStatus)
	}
	th := st.CurrentThread
	if th == nil || th.Function.Name() != fn || th.Line != line || filepath.Base(th.File) != "main.go" {
		t.Fatalf("%s: at %+v, want %s main.go:%d", what, th, fn, line)
	}
}

func continueOnce(t *testing.T, c *delverpc.RPCClient) (*api.DebuggerState, error) {
	t.Helper()
	var last *api.DebuggerState
	for st := range c.Continue() {
		last = st
	}
	if last == nil {
		t.Fatal("continue returned no state")
	}
	return last, last.Err
}

func named(t *testing.T, vars []api.Variable, name string) api.Variable {
	t.Helper()
	for _, v := range vars {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no %s in %+v", name, vars)
	return api.Variable{}
}

// TestDelveClientSession runs a full debugging session of the basic
// fixture with Delve's client against tinydbg's server.
func TestDelveClientSession(t *testing.T) {
	addr, done := serve(t)
	c := delverpc.NewClient(addr)
	scope := api.EvalScope{GoroutineID: -1}

	if v := c.GetVersion(); v.APIVersion != 2 || !strings.HasPrefix(v.DelveVersion, "tinydbg") {
		t.Fatalf("version %+v", v)
	}
	if multi := c.IsMulticlient(); multi {
		t.Fatal("server claims to be multiclient")
	}
	bp, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.add"})
	if err != nil {
		t.Fatal(err)
	}
	if bp.ID != 1 || bp.FunctionName != "main.add" || bp.Line != 13 || filepath.Base(bp.File) != "main.go" {
		t.Fatalf("breakpoint %+v", bp)
	}

	st, err := continueOnce(t, c)
	stopAt(t, "continue", st, err, "main.add", 13) // prologue_end, the func line
	if b := st.CurrentThread.Breakpoint; b == nil || b.ID != 1 || b.TotalHitCount != 1 || b.HitCount["1"] != 1 {
		t.Fatalf("hit breakpoint %+v", b)
	}
	st, err = c.GetState()
	stopAt(t, "state", st, err, "main.add", 13)
	if st.SelectedGoroutine == nil || st.SelectedGoroutine.ID != 1 || st.Running {
		t.Fatalf("state goroutine %+v running %v", st.SelectedGoroutine, st.Running)
	}

	gs, next, err := c.ListGoroutines(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var g1 *api.Goroutine
	for _, g := range gs {
		if g.ID == 1 {
			g1 = g
		}
	}
	if next != -1 || g1 == nil || g1.CurrentLoc.Function.Name() != "main.add" || g1.CurrentLoc.Line != 13 ||
		g1.StartLoc.Function.Name() != "runtime.main" || g1.ThreadID == 0 {
		t.Fatalf("goroutines (next %d): g1 %+v", next, g1)
	}

	frames, err := c.Stacktrace(-1, 5, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 3 || frames[0].Function.Name() != "main.add" || frames[0].Line != 13 ||
		frames[1].Function.Name() != "main.main" || frames[1].Line != 32 || frames[2].Function.Name() != "runtime.main" {
		t.Fatalf("stack %+v", frames)
	}

	args, err := c.ListFunctionArgs(scope, loadCfg)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := named(t, args, "a"), named(t, args, "b"); a.Value != "3" || b.Value != "4" || a.Type != "int" {
		t.Fatalf("args %+v", args)
	}

	st, err = c.Next()
	stopAt(t, "next", st, err, "main.add", 14)
	st, err = c.Next()
	stopAt(t, "next", st, err, "main.add", 15)
	locals, err := c.ListLocalVariables(scope, loadCfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum := named(t, locals, "sum"); sum.Value != "7" {
		t.Fatalf("locals %+v", locals)
	}

	c.SetReturnValuesLoadConfig(&loadCfg)
	st, err = c.StepOut()
	stopAt(t, "stepout", st, err, "main.main", 32)
	if rv := st.CurrentThread.ReturnValues; len(rv) != 1 || rv[0].Name != "~r0" || rv[0].Value != "7" {
		t.Fatalf("return values %+v", rv)
	}

	st, err = c.Next()
	stopAt(t, "next to Scale", st, err, "main.main", 33)
	st, err = c.Step()
	stopAt(t, "step into Scale", st, err, "main.(*Point).Scale", 18)
	pv, err := c.EvalVariable(scope, "*p", loadCfg)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Type != "main.Point" || len(pv.Children) != 3 || pv.Children[0].Name != "X" || pv.Children[0].Value != "3" ||
		pv.Children[1].Value != "4" || pv.Children[2].Name != "Name" || pv.Children[2].Value != "pt" {
		t.Fatalf("*p = %+v", pv)
	}
	if x, err := c.EvalVariable(scope, "p.Y", loadCfg); err != nil || x.Value != "4" {
		t.Fatalf("p.Y = %+v, %v", x, err)
	}

	discarded, err := c.Restart(false)
	if err != nil || len(discarded) != 0 {
		t.Fatalf("restart: %v %v", discarded, err)
	}
	bps, err := c.ListBreakpoints(false)
	// Delve's default breakpoints come first, by id: -2 then -1.
	if err != nil || len(bps) != 3 || bps[0].Name != "runtime-fatal-throw" || bps[1].Name != "unrecovered-panic" ||
		bps[2].ID != 1 || bps[2].TotalHitCount != 0 {
		t.Fatalf("breakpoints after restart: %+v %v", bps, err)
	}
	st, err = continueOnce(t, c)
	stopAt(t, "continue after restart", st, err, "main.add", 13)

	if _, err := c.ClearBreakpoint(1); err != nil {
		t.Fatal(err)
	}
	var last *api.DebuggerState
	for s := range c.Continue() {
		last = s
	}
	if last == nil || !last.Exited || last.ExitStatus != 0 {
		t.Fatalf("continue to exit: %+v", last)
	}
	if err := c.Detach(true); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("server still running after detach")
	}
}

// TestDelveClientErrors checks that errors reach Delve's client as errors.
func TestDelveClientErrors(t *testing.T) {
	addr, _ := serve(t)
	c := delverpc.NewClient(addr)
	if _, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.nosuch"}); err == nil {
		t.Fatal("breakpoint on a missing function succeeded")
	}
	if _, err := c.GetBreakpoint(42); err == nil || err.Error() != "no breakpoint with id 42" {
		t.Fatalf("missing breakpoint: %v", err)
	}
	locs, _, err := c.FindLocation(api.EvalScope{GoroutineID: -1}, "main.go:36", false, nil)
	if err != nil || len(locs) != 1 || locs[0].Line != 36 || locs[0].Function.Name() != "main.main" {
		t.Fatalf("find main.go:36: %+v %v", locs, err)
	}
	if _, err := c.Checkpoint("x"); err == nil || !strings.Contains(err.Error(), "unknown method") {
		t.Fatalf("unsupported method: %v", err)
	}
	if err := c.Detach(true); err != nil {
		t.Fatal(err)
	}
}
