package compat

import (
	"maps"
	"testing"

	"github.com/go-delve/delve/pkg/goversion"
	"github.com/go-delve/delve/service/api"
	delverpc "github.com/go-delve/delve/service/rpc2"
)

// TestDelveClientGoroutines checks, with Delve's client and Delve's own
// wait reason names, the goroutine fields, filters and grouping, selecting
// and stepping a parked goroutine, Set and CancelNext.
func TestDelveClientGoroutines(t *testing.T) {
	addr, _ := serveFixture(t, "svcgoroutines")
	c := delverpc.NewClient(addr)
	scope := api.EvalScope{GoroutineID: -1}
	if _, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.ready"}); err != nil {
		t.Fatal(err)
	}
	st, err := continueOnce(t, c)
	stopAt(t, "continue", st, err, "main.ready", 23)

	label := []api.ListGoroutinesFilter{{Kind: api.GoroutineLabel, Arg: "role=worker"}}
	gs, groups, next, tooMany, err := c.ListGoroutinesWithFilter(0, 0, label, nil, nil)
	if err != nil || len(gs) != 1 || groups != nil || next != -1 || tooMany {
		t.Fatalf("labelled goroutines %+v %v %d %v: %v", gs, groups, next, tooMany, err)
	}
	w := gs[0]
	ver, ok := goversion.Parse(c.GetVersion().TargetGoVersion)
	if !ok {
		t.Fatalf("target Go version %q", c.GetVersion().TargetGoVersion)
	}
	if w.Status != api.GoroutineWaiting || api.WaitReasonString(&ver, w.WaitReason) != "chan receive" ||
		!maps.Equal(w.Labels, map[string]string{"role": "worker"}) || w.ThreadID != 0 ||
		w.UserCurrentLoc.Function.Name() != "main.receive" || w.UserCurrentLoc.Line != 12 {
		t.Fatalf("worker %+v", w)
	}
	_, groups, _, _, err = c.ListGoroutinesWithFilter(0, 0, []api.ListGoroutinesFilter{{Kind: api.GoroutineUser}},
		&api.GoroutineGroupingOptions{GroupBy: api.GoroutineLabel, GroupByKey: "role", MaxGroupMembers: 5}, nil)
	if err != nil || len(groups) != 2 || groups[0] != (api.GoroutineGroup{Name: "role=", Offset: 0, Count: 1, Total: 1}) ||
		groups[1] != (api.GoroutineGroup{Name: "role=worker", Offset: 1, Count: 1, Total: 1}) {
		t.Fatalf("user goroutines by role: %+v %v", groups, err)
	}

	st, err = c.SwitchGoroutine(w.ID)
	if err != nil || st.SelectedGoroutine.ID != w.ID {
		t.Fatalf("switch to the parked worker: %+v %v", st, err)
	}
	st, err = c.Next()
	stopAt(t, "next on the parked worker", st, err, "main.receive", 13)
	if st.SelectedGoroutine.ID != w.ID || st.NextInProgress {
		t.Fatalf("next ended on goroutine %d, in progress %v", st.SelectedGoroutine.ID, st.NextInProgress)
	}
	if err := c.SetVariable(scope, "v", "v + 1"); err != nil {
		t.Fatal(err)
	}
	if v, err := c.EvalVariable(scope, "v", loadCfg); err != nil || v.Value != "22" {
		t.Fatalf("v after v = v + 1: %+v %v", v, err)
	}
	// Line 13 computes v*2 from the register that still holds what the
	// channel delivered, so the result is 42 whatever v's slot says.
	c.SetReturnValuesLoadConfig(&loadCfg)
	st, err = c.StepOut()
	stopAt(t, "stepout", st, err, "main.worker", 17)
	if rv := st.CurrentThread.ReturnValues; len(rv) != 1 || rv[0].Name != "~r0" || rv[0].Value != "42" {
		t.Fatalf("receive returned %+v", rv)
	}
	if err := c.SetVariable(scope, "nosuch", "1"); err == nil || err.Error() != "could not find symbol value for nosuch" {
		t.Fatalf("set of a missing variable: %v", err)
	}
	if err := c.CancelNext(); err != nil {
		t.Fatal(err)
	}
	if err := c.Detach(true); err != nil {
		t.Fatal(err)
	}
}
