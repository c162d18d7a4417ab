package rpc2_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestTargetMethodsWire: ListTargets, FollowExec, FollowExecEnabled,
// SetExecutionPoint and Stacktrace with Defers answer Delve's requests
// with Delve's JSON names.
func TestTargetMethodsWire(t *testing.T) {
	s := start(t, "basic", true)
	c := s.client(t)
	pid, err := c.ProcessPid()
	if err != nil {
		t.Fatal(err)
	}
	raw := dialRaw(t, s.addr)
	call := func(id int, method, params string) rawReply {
		t.Helper()
		fmt.Fprintf(raw, `{"method":"RPCServer.%s","params":[%s],"id":%d}`+"\n", method, params, id)
		return raw.read(t)
	}
	r := call(1, "ListTargets", `{}`)
	var lt struct {
		Targets []struct {
			Pid           int
			CmdLine       string
			CurrentThread *struct{ ID int }
		}
	}
	if r.Error != nil || json.Unmarshal(r.Result, &lt) != nil || len(lt.Targets) != 1 {
		t.Fatalf("ListTargets: %s %v", r.Result, r.Error)
	}
	if tg := lt.Targets[0]; tg.Pid != pid || tg.CmdLine != fixture.Build(t, "basic", fixture.Flavour{}) || tg.CurrentThread == nil || tg.CurrentThread.ID != pid {
		t.Errorf("target %+v, want pid %d, its binary, thread %d", tg, pid, pid)
	}
	if r := call(2, "FollowExecEnabled", `{}`); r.Error != nil || string(r.Result) != `{"Enabled":false}` {
		t.Errorf("FollowExecEnabled: %s %v", r.Result, r.Error)
	}
	if r := call(3, "FollowExec", `{"Enable":true,"Regex":"child$"}`); r.Error != nil {
		t.Errorf("FollowExec on: %v", *r.Error)
	}
	if r := call(4, "FollowExecEnabled", `{}`); r.Error != nil || string(r.Result) != `{"Enabled":true}` {
		t.Errorf("FollowExecEnabled after on: %s %v", r.Result, r.Error)
	}
	if r := call(6, "FollowExec", `{"Enable":false}`); r.Error != nil {
		t.Errorf("FollowExec off: %v", *r.Error)
	}
	if r := call(5, "SetExecutionPoint", `{"Addr":1}`); r.Error == nil ||
		*r.Error != "can not set the next execution point outside of the current function" {
		t.Errorf("SetExecutionPoint elsewhere: %s %v", r.Result, r.Error)
	}
}
