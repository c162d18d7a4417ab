package compat

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-delve/delve/service/api"
	delverpc "github.com/go-delve/delve/service/rpc2"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestDelveClientFollowExec calls FollowExec, FollowExecEnabled and
// ListTargets with Delve's own Go client against tinydbg's server on
// _fixtures/execchild: the child stops at a breakpoint only it reaches,
// and the target list holds parent and child with their command lines.
func TestDelveClientFollowExec(t *testing.T) {
	addr, _ := serveFixture(t, "execchild")
	bin := fixture.Build(t, "execchild", fixture.Flavour{})
	c := delverpc.NewClient(addr)
	parent := enableFollowExec(t, c, bin)
	if _, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.childWork"}); err != nil {
		t.Fatal(err)
	}
	st, err := continueOnce(t, c)
	stopAt(t, "continue", st, err, "main.childWork", 11)
	if st.Pid == parent || st.TargetCommandLine != bin+" child" {
		t.Fatalf("stopped in pid %d %q, parent %d", st.Pid, st.TargetCommandLine, parent)
	}
	ts, err := c.ListTargets()
	if err != nil || len(ts) != 2 {
		t.Fatalf("targets: %+v, %v", ts, err)
	}
	if ts[0].Pid != parent || ts[0].CmdLine != bin || ts[1].Pid != st.Pid || ts[1].CmdLine != bin+" child" {
		t.Fatalf("targets %+v, parent %d child %d", ts, parent, st.Pid)
	}
	if th := ts[1].CurrentThread; th == nil || th.Function == nil || th.Function.Name() != "main.childWork" || th.Line != 11 || filepath.Base(th.File) != "main.go" {
		t.Fatalf("child's thread %+v", ts[1].CurrentThread)
	}
	if err := c.FollowExec(false, ""); err != nil || c.FollowExecEnabled() {
		t.Fatalf("FollowExec(false): %v, enabled %v", err, c.FollowExecEnabled())
	}
}

// TestDelveClientFollowExecDlv makes enableFollowExec's calls on `dlv
// exec --headless`, which answers them as tinydbg does. (Past the fork
// they differ: dlv 1.27.2 does not stop at the child's breakpoint; see
// TestParityFollowExec.)
func TestDelveClientFollowExecDlv(t *testing.T) {
	testenv.RequirePtrace(t)
	if dlvErr != nil {
		testenv.SkipOrFail(t, "no dlv %s: %v", dlvVersion, dlvErr)
	}
	bin := fixture.Build(t, "execchild", fixture.Flavour{})
	h := startHeadless(t, dlvBin, "exec", "--headless", "--listen=127.0.0.1:0", "--api-version=2", bin)
	enableFollowExec(t, delverpc.NewClient(h.addr), bin)
}

// enableFollowExec checks FollowExecEnabled before and after FollowExec
// (a bad regex refused, leaving it off) and the one target before the
// fork, and returns the parent's pid.
func enableFollowExec(t *testing.T, c *delverpc.RPCClient, bin string) int {
	t.Helper()
	if c.FollowExecEnabled() {
		t.Fatal("follow-exec enabled before FollowExec")
	}
	if err := c.FollowExec(true, "(unclosed"); err == nil || !strings.Contains(err.Error(), "(unclosed") || c.FollowExecEnabled() {
		t.Fatalf("FollowExec with a bad regex: %v, enabled %v", err, c.FollowExecEnabled())
	}
	if err := c.FollowExec(true, " child$"); err != nil {
		t.Fatal(err)
	}
	if !c.FollowExecEnabled() {
		t.Fatal("follow-exec not enabled after FollowExec")
	}
	before, err := c.ListTargets()
	if err != nil || len(before) != 1 || before[0].CmdLine != bin {
		t.Fatalf("targets before the fork: %+v, %v", before, err)
	}
	return before[0].Pid
}

// TestDelveClientSetExecutionPoint moves the PC with Delve's client:
// from main.go:33 to the first address of line 35 (skipping Scale and
// describe), after which next and the value of counter (7 + n, n = 7)
// show the jump happened; an address outside the function is refused and
// leaves the PC where it was. The same calls on `dlv exec --headless`
// give the same results.
func TestDelveClientSetExecutionPoint(t *testing.T) {
	t.Run("tinydbg", func(t *testing.T) {
		addr, _ := serve(t)
		setExecutionPoint(t, addr)
	})
	t.Run("dlv", func(t *testing.T) {
		testenv.RequirePtrace(t)
		if dlvErr != nil {
			testenv.SkipOrFail(t, "no dlv %s: %v", dlvVersion, dlvErr)
		}
		bin := fixture.Build(t, "basic", fixture.Flavour{})
		setExecutionPoint(t, startHeadless(t, dlvBin, "exec", "--headless", "--listen=127.0.0.1:0", "--api-version=2", bin).addr)
	})
}

func setExecutionPoint(t *testing.T, addr string) {
	c := delverpc.NewClient(addr)
	if _, err := c.CreateBreakpoint(&api.Breakpoint{File: filepath.Join(fixture.Dir(), "basic", "main.go"), Line: 33}); err != nil {
		t.Fatal(err)
	}
	st, err := continueOnce(t, c)
	stopAt(t, "continue", st, err, "main.main", 33)
	scope := api.EvalScope{GoroutineID: -1}
	line35 := onePC(t, c, "main.go:35")
	st, err = c.SetExecutionPoint(line35)
	stopAt(t, "SetExecutionPoint", st, err, "main.main", 35)
	if st.CurrentThread.PC != line35 {
		t.Fatalf("PC %#x after SetExecutionPoint(%#x)", st.CurrentThread.PC, line35)
	}
	if _, err := c.SetExecutionPoint(onePC(t, c, "main.add")); err == nil || err.Error() != "can not set the next execution point outside of the current function" {
		t.Fatalf("SetExecutionPoint outside the function: %v", err)
	}
	if st, err := c.GetState(); err != nil || st.CurrentThread.PC != line35 {
		t.Fatalf("state after the refusal: %+v, %v", st, err)
	}
	st, err = c.Next()
	stopAt(t, "next", st, err, "main.main", 36)
	// counter is 7 + n once line 35 ran; p is unscaled, Scale skipped.
	for expr, want := range map[string]string{"counter": "14", "p.X": "3"} {
		if v, err := c.EvalVariable(scope, expr, loadCfg); err != nil || v.Value != want {
			t.Errorf("%s after the jump: %+v, %v; want %s", expr, v, err, want)
		}
	}
}

// onePC is the address of a location that must have exactly one.
func onePC(t *testing.T, c *delverpc.RPCClient, loc string) uint64 {
	t.Helper()
	locs, _, err := c.FindLocation(api.EvalScope{GoroutineID: -1}, loc, false, nil)
	if err != nil || len(locs) != 1 {
		t.Fatalf("%s: %+v, %v", loc, locs, err)
	}
	return locs[0].PC
}
