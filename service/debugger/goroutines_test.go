package debugger_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// waitReasonChanReceive is Go 1.26's runtime.waitReasonChanReceive, the
// number Delve sends for a goroutine blocked receiving from a channel.
const waitReasonChanReceive = 19

// waitReasonSleep is Go 1.26's runtime.waitReasonSleep.
const waitReasonSleep = 14

var svcLoad = api.LoadConfig{FollowPointers: true, MaxVariableRecurse: 1, MaxStringLen: 64, MaxArrayValues: 64, MaxStructFields: -1}

// stopInReady launches svcgoroutines and runs it to the first call of
// main.ready, where the labelled worker is parked receiving in main.receive.
func stopInReady(t *testing.T) (*debugger.Debugger, int64) {
	t.Helper()
	d := launch(t, "svcgoroutines", fixture.Flavour{})
	if _, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.ready"}, ""); err != nil {
		t.Fatal(err)
	}
	at(t, run(t, d, api.Continue), "main.ready", 23)
	gl, err := d.ListGoroutines(0, 0, []api.ListGoroutinesFilter{{Kind: api.GoroutineLabel, Arg: "role=worker"}}, api.GoroutineGroupingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(gl.Goroutines) != 1 {
		t.Fatalf("goroutines labelled role=worker: %+v", gl.Goroutines)
	}
	return d, gl.Goroutines[0].ID
}

// TestGoroutineWire checks the wait reason, labels, filters and grouping
// of ListGoroutines against Delve's semantics.
func TestGoroutineWire(t *testing.T) {
	d, wid := stopInReady(t)
	all, err := d.ListGoroutines(0, 0, nil, api.GoroutineGroupingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var w, g1 *api.Goroutine
	for _, g := range all.Goroutines {
		switch g.ID {
		case wid:
			w = g
		case 1:
			g1 = g
		}
	}
	if w == nil || g1 == nil || all.Next != -1 {
		t.Fatalf("goroutines %+v next %d", all.Goroutines, all.Next)
	}
	if w.Status != 4 || w.WaitReason != waitReasonChanReceive || w.ThreadID != 0 ||
		!maps.Equal(w.Labels, map[string]string{"role": "worker"}) ||
		w.UserCurrentLoc.Function.Name() != "main.receive" || w.UserCurrentLoc.Line != 12 ||
		w.StartLoc.Function.Name() != "main.worker" || w.StartLoc.Line != 16 || w.GoStatementLoc.Line != 44 {
		t.Fatalf("worker %+v: user %s start %s", w, w.UserCurrentLoc.Function.Name(), w.StartLoc.Function.Name())
	}
	// The runtime leaves waitreason alone when a goroutine wakes up, and
	// Delve sends the raw field: main's is still its time.Sleep's.
	if g1.Status != 2 || g1.WaitReason != waitReasonSleep || g1.Labels != nil || g1.ThreadID == 0 {
		t.Fatalf("goroutine 1 %+v", g1)
	}

	ids := func(gs []*api.Goroutine) []int64 {
		var out []int64
		for _, g := range gs {
			out = append(out, g.ID)
		}
		slices.Sort(out)
		return out
	}
	list := func(filters []api.ListGoroutinesFilter, group api.GoroutineGroupingOptions) *debugger.GoroutineList {
		t.Helper()
		gl, err := d.ListGoroutines(0, 0, filters, group)
		if err != nil {
			t.Fatal(err)
		}
		return gl
	}
	user := []api.ListGoroutinesFilter{{Kind: api.GoroutineUser}}
	if got := ids(list(user, api.GoroutineGroupingOptions{}).Goroutines); !slices.Equal(got, []int64{1, wid}) {
		t.Fatalf("user goroutines %v, want [1 %d]", got, wid)
	}
	if got := ids(list([]api.ListGoroutinesFilter{{Kind: api.GoroutineLabel, Arg: "role"}}, api.GoroutineGroupingOptions{}).Goroutines); !slices.Equal(got, []int64{wid}) {
		t.Fatalf("goroutines with a role label %v", got)
	}
	notWorker := list([]api.ListGoroutinesFilter{{Kind: api.GoroutineLabel, Arg: "role=worker", Negated: true}}, api.GoroutineGroupingOptions{})
	if len(notWorker.Goroutines) != len(all.Goroutines)-1 || slices.Contains(ids(notWorker.Goroutines), wid) {
		t.Fatalf("negated label filter kept %v of %d", ids(notWorker.Goroutines), len(all.Goroutines))
	}
	running := list([]api.ListGoroutinesFilter{{Kind: api.GoroutineRunning}}, api.GoroutineGroupingOptions{})
	if got := ids(running.Goroutines); !slices.Equal(got, []int64{1}) {
		t.Fatalf("running goroutines %v", got)
	}
	if got := ids(list([]api.ListGoroutinesFilter{{Kind: api.GoroutineUserLoc, Arg: "main.go:12 in main.receive"}}, api.GoroutineGroupingOptions{}).Goroutines); !slices.Equal(got, []int64{wid}) {
		t.Fatalf("goroutines in main.receive %v", got)
	}

	byUser := list(nil, api.GoroutineGroupingOptions{GroupBy: api.GoroutineUser, MaxGroupMembers: 1})
	if len(byUser.Groups) != 2 || byUser.Groups[0].Name != "user=false" || byUser.Groups[1].Name != "user=true" ||
		byUser.Groups[1].Total != 2 || byUser.Groups[1].Count != 1 || byUser.Groups[1].Offset != 1 ||
		byUser.Groups[0].Total != len(all.Goroutines)-2 || len(byUser.Goroutines) != 2 || byUser.TooManyGroups {
		t.Fatalf("grouped by user: %+v", byUser.Groups)
	}
	byLabel := list(user, api.GoroutineGroupingOptions{GroupBy: api.GoroutineLabel, GroupByKey: "role", MaxGroupMembers: 10})
	if len(byLabel.Groups) != 2 || byLabel.Groups[0] != (api.GoroutineGroup{Name: "role=", Offset: 0, Count: 1, Total: 1}) ||
		byLabel.Groups[1] != (api.GoroutineGroup{Name: "role=worker", Offset: 1, Count: 1, Total: 1}) || byLabel.Goroutines[1].ID != wid {
		t.Fatalf("grouped by label: %+v", byLabel.Groups)
	}
	few := list(nil, api.GoroutineGroupingOptions{GroupBy: api.GoroutineStartLoc, MaxGroupMembers: 10, MaxGroups: 1})
	if len(few.Groups) != 1 || !few.TooManyGroups {
		t.Fatalf("one group of start locations: %+v too many %v", few.Groups, few.TooManyGroups)
	}
	if _, err := d.ListGoroutines(0, 5, []api.ListGoroutinesFilter{{Kind: api.GoroutineWaitingOnChannel, Arg: "ch"}}, api.GoroutineGroupingOptions{}); err == nil {
		t.Fatal("channel filter accepted")
	}
}

// TestParkedGoroutine selects the parked worker and drives it with next,
// step and stepout, as Delve allows.
func TestParkedGoroutine(t *testing.T) {
	cases := []struct {
		cmd  string
		fn   string
		line int
	}{
		{api.Next, "main.receive", 13},
		{api.Step, "main.receive", 13},
		{api.StepOut, "main.worker", 17},
	}
	for _, c := range cases {
		t.Run(c.cmd, func(t *testing.T) {
			d, wid := stopInReady(t)
			before, err := d.State(false)
			if err != nil {
				t.Fatal(err)
			}
			st, err := d.Command(api.DebuggerCommand{Name: api.SwitchGoroutine, GoroutineID: wid}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if st.SelectedGoroutine == nil || st.SelectedGoroutine.ID != wid || st.CurrentThread.ID != before.CurrentThread.ID {
				t.Fatalf("after switch: goroutine %+v thread %d (was %d)", st.SelectedGoroutine, st.CurrentThread.ID, before.CurrentThread.ID)
			}
			frames, err := d.Stacktrace(-1, 10, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.IndexFunc(frames, func(f api.Stackframe) bool { return f.Function.Name() == "main.receive" }); i < 0 || frames[i].Line != 12 || frames[i+1].Function.Name() != "main.worker" {
				t.Fatalf("stack of the parked worker %+v", frames)
			}
			ch, err := d.Eval(-1, 0, "ch", svcLoad)
			if err == nil {
				t.Fatalf("frame 0 of a parked goroutine is the runtime's, yet ch = %+v", ch)
			}
			st, err = d.Command(api.DebuggerCommand{Name: c.cmd, ReturnInfoLoadConfig: &svcLoad}, nil)
			if err != nil {
				t.Fatal(err)
			}
			at(t, st, c.fn, c.line)
			if st.SelectedGoroutine.ID != wid || st.CurrentThread.GoroutineID != wid || st.StopReason != "next finished" {
				t.Fatalf("%s stopped goroutine %d (thread's %d), reason %q", c.cmd, st.SelectedGoroutine.ID, st.CurrentThread.GoroutineID, st.StopReason)
			}
			if c.cmd == api.StepOut {
				rv := st.CurrentThread.ReturnValues
				if len(rv) != 1 || rv[0].Name != "~r0" || rv[0].Value != "42" {
					t.Fatalf("return values %+v", rv)
				}
				return
			}
			v, err := d.Eval(-1, 0, "v", svcLoad)
			if err != nil || v.Value != "21" {
				t.Fatalf("v = %+v, %v", v, err)
			}
		})
	}
}

// TestSetThroughAPI sets an int, a bool and a pointer of main's frame and
// reads them back.
func TestSetThroughAPI(t *testing.T) {
	d := launch(t, "svcgoroutines", fixture.Flavour{})
	if _, err := d.CreateBreakpoint(api.Breakpoint{}, "main.go:57"); err != nil {
		t.Fatal(err)
	}
	at(t, run(t, d, api.Continue), "main.main", 57)
	for _, c := range []struct{ lhs, rhs, expr, want string }{
		{"count", "count*5 + 2", "count", "17"},
		{"verbose", "true", "verbose", "true"},
		{"last", "&count", "*last", "17"},
		{"*last", "-4", "count", "-4"},
		{"last", "nil", "last == nil", "true"},
	} {
		if err := d.Set(-1, 0, c.lhs, c.rhs); err != nil {
			t.Fatalf("set %s = %s: %v", c.lhs, c.rhs, err)
		}
		v, err := d.Eval(-1, 0, c.expr, svcLoad)
		if err != nil {
			t.Fatalf("%s after set %s: %v", c.expr, c.lhs, err)
		}
		if v.Value != c.want {
			t.Fatalf("%s after set %s = %s: %+v, want %s", c.expr, c.lhs, c.rhs, v, c.want)
		}
	}
	if err := d.Set(-1, 0, "count", "1.5"); err == nil || err.Error() != "can not convert 1.5 constant to int" {
		t.Fatalf("set count = 1.5: %v", err)
	}
	// The program sees the new values.
	st := run(t, d, api.Continue)
	if !st.Exited || st.ExitStatus != 0 {
		t.Fatalf("exit %+v", st)
	}
}

// TestGoroutinesAfterCall: the goroutine list is read again after every
// command that ran the program. spawn starts a goroutine that parks in
// main.park for good: a call expression whose inner spawn() ran before
// its outer call was refused leaves one, a call of spawn() a second, and
// a restart none, the new process having none of the old one's.
func TestGoroutinesAfterCall(t *testing.T) {
	d, _ := launchOut(t, "fncall", fixture.Flavour{})
	stopAtCallSite(t, d)
	parked := func() int { return goroutinesIn(t, d, "main.park") }
	if n := parked(); n != 0 {
		t.Fatalf("%d goroutines in main.park before any call, want 0", n)
	}
	_, err := callCmd(d, `add(spawn(), "x")`, false)
	if err == nil || err.Error() != `can not convert "x" constant to int` {
		t.Fatalf("call of add with a string: error %v", err)
	}
	if n := parked(); n != 1 {
		t.Fatalf("%d goroutines in main.park after the inner spawn() ran, want 1", n)
	}
	st, err := callCmd(d, "spawn()", false)
	if err != nil {
		t.Fatal(err)
	}
	wantCallReturned(t, "spawn()", st, []string{"~r0: 1"})
	if n := parked(); n != 2 {
		t.Fatalf("%d goroutines in main.park after spawn(), want 2", n)
	}
	if _, err := d.Restart(false, nil); err != nil {
		t.Fatal(err)
	}
	at(t, run(t, d, api.Continue), "main.stop", 83) // the breakpoint is kept
	if n := parked(); n != 0 {
		t.Fatalf("%d goroutines in main.park after restart, want 0", n)
	}
}

// goroutinesIn counts the goroutines whose user frame is in function fn.
func goroutinesIn(t *testing.T, d *debugger.Debugger, fn string) int {
	t.Helper()
	gl, err := d.ListGoroutines(0, 100, nil, api.GoroutineGroupingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range gl.Goroutines {
		if g.UserCurrentLoc.Function.Name() == fn {
			n++
		}
	}
	return n
}
