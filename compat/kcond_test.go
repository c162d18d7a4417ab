package compat

import (
	"strconv"
	"testing"

	"github.com/go-delve/delve/service/api"
	delverpc "github.com/go-delve/delve/service/rpc2"

	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestDelveClientKernelCondition: Delve's client creates and amends a
// conditional breakpoint (Cond, HitCond) that tinydbg evaluates in the
// kernel; the stops, the arguments and the hit counts (total and per
// goroutine) are what Delve's semantics give, and the field tinydbg adds
// does not disturb the client.
func TestDelveClientKernelCondition(t *testing.T) {
	testenv.RequireRoot(t)
	addr, _ := serveFixture(t, "condloop") // 1,000,000 calls of main.hot
	c := delverpc.NewClient(addr)
	bp, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.hot", Cond: "i == 700000"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := continueOnce(t, c)
	stopAt(t, "continue", st, err, "main.hot", 23)
	scope := api.EvalScope{GoroutineID: -1}
	args, err := c.ListFunctionArgs(scope, loadCfg)
	if err != nil {
		t.Fatal(err)
	}
	if i := named(t, args, "i"); i.Value != "700000" {
		t.Fatalf("i = %s", i.Value)
	}
	g := strconv.FormatInt(st.SelectedGoroutine.ID, 10)
	got, err := c.GetBreakpoint(bp.ID)
	if err != nil || got.TotalHitCount != 1 || got.HitCount[g] != 1 || len(got.HitCount) != 1 {
		t.Fatalf("after one hit: %+v, %v", got, err)
	}

	got.Cond, got.HitCond = "i >= 700000", "% 3"
	if err := c.AmendBreakpoint(got); err != nil {
		t.Fatal(err)
	}
	// Counts go on from 1: i = 700001 is hit 2, i = 700002 hit 3.
	st, err = continueOnce(t, c)
	stopAt(t, "continue", st, err, "main.hot", 23)
	args, err = c.ListFunctionArgs(scope, loadCfg)
	if err != nil {
		t.Fatal(err)
	}
	if i := named(t, args, "i"); i.Value != "700002" {
		t.Fatalf("i = %s", i.Value)
	}
	if got, err = c.GetBreakpoint(bp.ID); err != nil || got.TotalHitCount != 3 || got.HitCount[g] != 3 {
		t.Fatalf("after three hits: %+v, %v", got, err)
	}
	if _, err := c.ClearBreakpoint(bp.ID); err != nil {
		t.Fatal(err)
	}
	// Delve's server reports the exit as the state's error, too.
	if st, _ = continueOnce(t, c); !st.Exited || st.ExitStatus != 0 {
		t.Fatalf("to the end: %+v", st)
	}
}
