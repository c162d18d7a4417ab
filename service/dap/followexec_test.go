package dap

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// runFollowing launches execchild with followExec (and regex), with a
// breakpoint in the child's main.childWork, and runs it: it returns the
// process events up to the run's end and that end (a stop or the end
// of the session).
func runFollowing(t *testing.T, c *testClient, regex string) ([]dap.ProcessEventBody, dap.Message) {
	t.Helper()
	c.initialize()
	seq := c.send("launch", map[string]any{"request": "launch", "mode": "exec", "program": fixture.Build(t, "execchild", fixture.Flavour{}),
		"followExec": true, "followExecRegex": regex})
	var procs []dap.ProcessEventBody
	collect := func(last func(dap.Message) bool) dap.Message {
		for {
			switch m := c.nextAny().(type) {
			case *dap.ProcessEvent:
				procs = append(procs, m.Body)
			case *dap.ErrorResponse:
				t.Fatalf("error response %+v", m.Body)
			default:
				if last(m) {
					return m
				}
			}
		}
	}
	collect(func(m dap.Message) bool { r, ok := m.(*dap.LaunchResponse); return ok && r.RequestSeq == seq })
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("execchild")}, "breakpoints": []map[string]any{{"line": 12}}})
	expectResponse[*dap.SetBreakpointsResponse](c, seq)
	c.send("configurationDone", nil)
	end := collect(func(m dap.Message) bool {
		switch m.(type) {
		case *dap.StoppedEvent, *dap.TerminatedEvent:
			return true
		}
		return false
	})
	return procs, end
}

// TestFollowExecProcessEvent: launched with followExec, the child that
// execchild forks and execs is announced as Delve announces it, with a
// process event (its command line and pid, local, no start method) sent
// before the stop the run ends with: the child's stop at its breakpoint
// when it is followed; the parent's end when followExecRegex leaves it
// out, since Delve announces every child.
func TestFollowExecProcessEvent(t *testing.T) {
	testenv.RequirePtrace(t)
	child := fixture.Build(t, "execchild", fixture.Flavour{}) + " child"
	for _, regex := range []string{"", "nomatch$"} {
		t.Run(fmt.Sprintf("regex=%q", regex), func(t *testing.T) {
			c := dial(t, startServer(t))
			procs, end := runFollowing(t, c, regex)
			b, _ := json.Marshal(procs)
			if len(procs) != 2 || procs[0].StartMethod != "launch" || procs[1].Name != child || !procs[1].IsLocalProcess ||
				procs[1].StartMethod != "" || procs[1].SystemProcessId == procs[0].SystemProcessId || procs[1].SystemProcessId <= 0 {
				t.Fatalf("process events %s: want the launch, then the child %q", b, child)
			}
			if regex != "" {
				if _, ok := end.(*dap.TerminatedEvent); !ok {
					t.Fatalf("ended with %T, want the program's end: the child is not followed", end)
				}
				return
			}
			if stop, ok := end.(*dap.StoppedEvent); !ok || stop.Body.Reason != "breakpoint" {
				t.Fatalf("ended with %+v, want the child's breakpoint", end)
			}
			// The stopped child is the announced process, and the stop
			// is its own.
			cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", procs[1].SystemProcessId))
			if err != nil || strings.ReplaceAll(strings.TrimSuffix(string(cmdline), "\x00"), "\x00", " ") != child {
				t.Errorf("pid %d: cmdline %q (%v), want the child's", procs[1].SystemProcessId, cmdline, err)
			}
			c.checkTop(1, "main.childWork", 12)
		})
	}
}
