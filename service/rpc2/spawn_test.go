package rpc2_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// commandEvents sends a continue (with WithEvents as asked) on raw and,
// when events are asked for, GetEvents until the stop event, as Delve's
// client does; it returns the events as the server encoded them and the
// command's state.
func commandEvents(t *testing.T, raw *rawConn, withEvents bool) ([]string, api.DebuggerState) {
	t.Helper()
	fmt.Fprintf(raw, `{"method":"RPCServer.Command","params":[{"name":"continue","WithEvents":%v}],"id":1}`+"\n", withEvents)
	getEvents := func(id int) {
		fmt.Fprintf(raw, `{"method":"RPCServer.GetEvents","params":[{}],"id":%d}`+"\n", id)
	}
	if withEvents {
		getEvents(2)
	}
	var events []string
	var out struct{ State api.DebuggerState }
	for answered, stopped := false, !withEvents; !answered || !stopped; {
		r := raw.read(t)
		switch {
		case r.ID == nil || r.Error != nil:
			t.Fatalf("reply %+v", r)
		case *r.ID == 1:
			if err := json.Unmarshal(r.Result, &out); err != nil {
				t.Fatalf("Command reply %s: %v", r.Result, err)
			}
			answered = true
		default:
			var got struct{ Events []json.RawMessage }
			if err := json.Unmarshal(r.Result, &got); err != nil || len(got.Events) == 0 {
				t.Fatalf("GetEvents reply %s: %v", r.Result, err)
			}
			for _, ev := range got.Events {
				events = append(events, string(ev))
				stopped = stopped || string(ev) == `{"Kind":1}`
			}
			if !stopped {
				getEvents(*r.ID + 1)
			}
		}
	}
	return events, out.State
}

// spawnSession serves execchild with follow-exec on (regex as given) and
// breakpoints at locs, and returns a client, a raw connection and the
// parent's pid.
func spawnSession(t *testing.T, regex string, locs ...string) (*rpc2.Client, *rawConn, int) {
	t.Helper()
	s := start(t, "execchild", true)
	c := s.client(t)
	parent, err := c.ProcessPid()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.FollowExec(true, regex); err != nil {
		t.Fatal(err)
	}
	for _, loc := range locs {
		if _, err := c.CreateBreakpoint(&api.Breakpoint{}, loc); err != nil {
			t.Fatal(err)
		}
	}
	return c, dialRaw(t, s.addr), parent
}

// TestProcessSpawnedEvent: with follow-exec on, the child execchild forks
// and execs is announced to a client asking for events as Delve's server
// does, between the resume and the stop, in Delve's JSON: kind 4, the
// child's pid, its thread (the pid), its command line, and whether it is
// followed. A followed child's stop is the command's answer; a child the
// regex leaves out is announced too and the parent stops. A command run
// without events queues none for a later one.
func TestProcessSpawnedEvent(t *testing.T) {
	bin := fixture.Build(t, "execchild", fixture.Flavour{})
	t.Run("followed", func(t *testing.T) {
		_, raw, parent := spawnSession(t, "", "main.childWork", "main.parentDone")
		events, st := commandEvents(t, raw, true)
		child := st.Pid
		if child == parent || st.TargetCommandLine != bin+" child" || st.CurrentThread == nil || st.CurrentThread.Function.Name() != "main.childWork" {
			t.Fatalf("stop: pid %d (parent %d) %q at %+v, want the child at main.childWork", child, parent, st.TargetCommandLine, st.CurrentThread)
		}
		spawned, _ := json.Marshal(bin + " child")
		want := []string{`{"Kind":0}`, fmt.Sprintf(`{"Kind":4,"PID":%d,"ThreadID":%d,"Cmdline":%s,"WillFollow":true}`, child, child, spawned), `{"Kind":1}`}
		if fmt.Sprint(events) != fmt.Sprint(want) {
			t.Errorf("events:\n%v\nwant:\n%v", events, want)
		}
		// The child ends and the parent stops, with nothing spawned.
		events, st = commandEvents(t, raw, true)
		if want := []string{`{"Kind":0}`, `{"Kind":1}`}; fmt.Sprint(events) != fmt.Sprint(want) || st.Pid != parent {
			t.Errorf("second continue: events %v in %d, want %v in the parent %d", events, st.Pid, want, parent)
		}
	})
	t.Run("not-followed-and-no-events", func(t *testing.T) {
		// Breakpoints before cmd.Run and after it.
		c, raw, parent := spawnSession(t, "nomatch$", "main.go:26", "main.parentDone")
		events, st := commandEvents(t, raw, true)
		if want := []string{`{"Kind":0}`, `{"Kind":1}`}; fmt.Sprint(events) != fmt.Sprint(want) || st.CurrentThread == nil || st.CurrentThread.Line != 26 {
			t.Fatalf("to cmd.Run: events %v at %+v, want %v at line 26", events, st.CurrentThread, want)
		}
		events, st = commandEvents(t, raw, true)
		if len(events) != 3 || st.Pid != parent || st.CurrentThread == nil || st.CurrentThread.Function.Name() != "main.parentDone" {
			t.Fatalf("over cmd.Run: events %v, stop in %d at %+v, want three and the parent %d at main.parentDone", events, st.Pid, st.CurrentThread, parent)
		}
		var ev struct {
			Kind       api.EventKind
			PID        int
			ThreadID   int
			Cmdline    string
			WillFollow *bool
		}
		if err := json.Unmarshal([]byte(events[1]), &ev); err != nil || ev.Kind != api.EventProcessSpawned || ev.PID == parent || ev.PID <= 0 ||
			ev.ThreadID != ev.PID || ev.Cmdline != bin+" child" || ev.WillFollow == nil || *ev.WillFollow {
			t.Errorf("spawned event %s (%v): want kind 4, a child's pid and thread, %q, WillFollow false", events[1], err, bin+" child")
		}
		// Restarted, the program spawns again, during a command that asks
		// for no events: the next one that does sees only its own.
		if _, err := c.Restart(false, nil); err != nil {
			t.Fatal(err)
		}
		if _, st := commandEvents(t, raw, false); st.CurrentThread == nil || st.CurrentThread.Line != 26 {
			t.Fatalf("after restart: at %+v, want line 26", st.CurrentThread)
		}
		if _, st := commandEvents(t, raw, false); st.CurrentThread == nil || st.CurrentThread.Function.Name() != "main.parentDone" {
			t.Fatalf("after restart: at %+v, want main.parentDone", st.CurrentThread)
		}
		events, st = commandEvents(t, raw, true)
		if want := []string{`{"Kind":0}`, `{"Kind":1}`}; fmt.Sprint(events) != fmt.Sprint(want) || !st.Exited {
			t.Errorf("to the end: events %v, exited %v, want %v and the end", events, st.Exited, want)
		}
	})
}
