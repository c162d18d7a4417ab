package rpc2_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// TestGoroutinesOverWire lists the labelled, parked worker of
// svcgoroutines through our client, selects it, sets one of its variables
// and checks CancelNext answers when no next is in progress.
func TestGoroutinesOverWire(t *testing.T) {
	s := start(t, "svcgoroutines", false)
	c := s.client(t)
	if _, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.ready"}, ""); err != nil {
		t.Fatal(err)
	}
	st, err := c.Continue()
	wantStop(t, "continue", st, err, "main.ready", 23)
	out, err := c.ListGoroutinesWithFilter(rpc2.ListGoroutinesIn{
		Filters:                  []api.ListGoroutinesFilter{{Kind: api.GoroutineUser}},
		GoroutineGroupingOptions: api.GoroutineGroupingOptions{GroupBy: api.GoroutineLabel, GroupByKey: "role", MaxGroupMembers: 10},
	})
	if err != nil || len(out.Groups) != 2 || out.Groups[1].Name != "role=worker" || len(out.Goroutines) != 2 || out.Nextg != -1 {
		t.Fatalf("grouped user goroutines: %+v %v", out, err)
	}
	w := out.Goroutines[out.Groups[1].Offset]
	if w.Labels["role"] != "worker" || w.WaitReason != 19 || w.Status != 4 {
		t.Fatalf("worker %+v", w)
	}
	st, err = c.SwitchGoroutine(w.ID)
	if err != nil || st.SelectedGoroutine.ID != w.ID {
		t.Fatalf("switch: %+v %v", st, err)
	}
	st, err = c.Step()
	wantStop(t, "step on the parked worker", st, err, "main.receive", 13)
	scope := api.EvalScope{GoroutineID: -1}
	if err := c.Set(scope, "v", "-3"); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Eval(scope, "v", shortCfg); err != nil || v.Value != "-3" {
		t.Fatalf("v = %+v %v", v, err)
	}
	if err := c.CancelNext(); err != nil {
		t.Fatal(err)
	}
	if st, err := c.GetState(); err != nil || st.NextInProgress {
		t.Fatalf("state %+v %v", st, err)
	}
}
