package rpc2_test

import (
	"encoding/json"
	"testing"

	"github.com/tinydbg/tinydbg/service/api"
)

// TestCreateWatchpointWire sends Delve's CreateWatchpoint request as a
// Delve client writes it and checks the reply carries the breakpoint's
// fields at the top level (CreateWatchpointOut embeds *api.Breakpoint),
// then that the watchpoint stops the program with its values.
func TestCreateWatchpointWire(t *testing.T) {
	s := start(t, "watch", true)
	c := s.client(t)
	if _, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.loop"}, ""); err != nil {
		t.Fatal(err)
	}
	st, err := c.Continue()
	wantStop(t, "continue", st, err, "main.loop", 17)
	c.Close()

	raw := dialRaw(t, s.addr)
	req := `{"method":"RPCServer.CreateWatchpoint","params":[{"Scope":{"GoroutineID":-1,"Frame":0,"DeferredCall":0},"Expr":"counter","Type":2}],"id":1}` + "\n"
	if _, err := raw.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	r := raw.read(t)
	if r.Error != nil {
		t.Fatalf("CreateWatchpoint: %s", *r.Error)
	}
	var got struct {
		ID        int    `json:"id"`
		Name      string `json:"name"`
		Addr      uint64 `json:"addr"`
		WatchExpr string
		WatchType int
	}
	if err := json.Unmarshal(r.Result, &got); err != nil {
		t.Fatalf("result %s: %v", r.Result, err)
	}
	if got.ID != 2 || got.Name != "counter" || got.WatchExpr != "counter" || got.WatchType != 2 || got.Addr == 0 {
		t.Fatalf("result %s: want watchpoint 2 named counter on counter, type 2", r.Result)
	}
	raw.Close()

	c = s.client(t)
	st, err = c.Continue()
	wantStop(t, "continue to the write", st, err, "main.loop", 22)
	th := st.CurrentThread
	if th.Breakpoint == nil || th.Breakpoint.WatchExpr != "counter" || th.Breakpoint.TotalHitCount != 1 {
		t.Fatalf("stopped on %+v, want the watchpoint's first hit", th.Breakpoint)
	}
	if th.WatchOld == nil || th.WatchNew == nil || th.WatchOld.Value != "0" || th.WatchNew.Value != "1" {
		t.Fatalf("values %+v -> %+v, want 0 -> 1", th.WatchOld, th.WatchNew)
	}
	_, err = c.CreateWatchpoint(api.EvalScope{GoroutineID: -1}, "main.small", api.WatchWrite|api.WatchRead)
	if err != nil {
		t.Fatalf("watch main.small: %v", err)
	}
	bps, err := c.ListBreakpoints()
	if err != nil {
		t.Fatal(err)
	}
	var watches []string
	for _, bp := range bps {
		if bp.WatchExpr != "" {
			watches = append(watches, bp.Name)
		}
	}
	if len(watches) != 2 || watches[0] != "counter" || watches[1] != "main.small" {
		t.Fatalf("watchpoints listed %v", watches)
	}
}
