package debugger_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
)

// TestFollowExecChildOfCall: with follow-exec on, call runTrue() execs
// /bin/true, which cannot be debugged. The spawned event and the attach
// failure are the call's, delivered with its reply (which still has the
// call's result); the next continue, to the second stop(), has neither.
func TestFollowExecChildOfCall(t *testing.T) {
	d, _ := launchOut(t, "execcall", fixture.Flavour{})
	if err := d.FollowExec(true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.stop"}, ""); err != nil {
		t.Fatal(err)
	}
	at(t, run(t, d, api.Continue), "main.stop", 21)
	var evs []api.Event
	st, err := d.CommandEvents(api.DebuggerCommand{Name: api.Call, Expr: "runTrue()", ReturnInfoLoadConfig: &svcLoad}, nil,
		func(e api.Event) { evs = append(evs, e) })
	if len(evs) != 1 || evs[0].Kind != api.EventProcessSpawned || evs[0].ProcessSpawnedEventDetails.Cmdline != "/bin/true" {
		t.Fatalf("events of the call: %+v, want one spawn of /bin/true", evs)
	}
	pid := evs[0].ProcessSpawnedEventDetails.PID
	prefix := fmt.Sprintf("child process %d could not be debugged: attach %d: ", pid, pid)
	const suffix = "true: not a Go program (no .go.buildinfo section and no runtime.main symbol)"
	if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.HasSuffix(err.Error(), suffix) {
		t.Fatalf("call reply error %v, want %s…%s", err, prefix, suffix)
	}
	at(t, st, "main.stop", 21)
	wantCallReturned(t, "runTrue()", st, []string{"~r0: 0"})
	evs = nil
	st, err = d.CommandEvents(api.DebuggerCommand{Name: api.Continue}, nil, func(e api.Event) { evs = append(evs, e) })
	if err != nil || len(evs) != 0 {
		t.Fatalf("the continue after the call: error %v, events %+v, want none", err, evs)
	}
	at(t, st, "main.stop", 21)
	if st := run(t, d, api.Continue); !st.Exited || st.ExitStatus != 0 {
		t.Fatalf("last continue: %+v", st)
	}
}
