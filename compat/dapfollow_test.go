package compat

import (
	"fmt"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestDAPFollowExecProcessEvent: launched with followExec, both servers
// announce the child execchild forks and execs with the same process
// event (its command line and pid, local, no start method) before the
// run's end, which is the same too: the child's stop at its breakpoint
// when it is followed (dlv's DAP server arms it there, unlike its
// terminal's session, see TestParityFollowExec), the program's end when
// followExecRegex leaves the child out.
func TestDAPFollowExecProcessEvent(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "execchild", fixture.Flavour{})
	src := fixture.Source("execchild")
	for _, d := range dapDebuggers(t) {
		for _, regex := range []string{"", "nomatch$"} {
			t.Run(fmt.Sprintf("%s/regex=%q", d.name, regex), func(t *testing.T) {
				c := dapClient(t, d.path)
				c.InitializeRequest()
				c.CheckInitializeResponse(t, nextMessage(t, c))
				c.LaunchRequestWithArgs(map[string]any{"request": "launch", "mode": "exec", "program": bin,
					"followExec": true, "followExecRegex": regex})
				var procs []dap.ProcessEventBody
				for launched := false; !launched; {
					switch m := nextMessage(t, c).(type) {
					case *dap.ProcessEvent:
						procs = append(procs, m.Body)
					case *dap.LaunchResponse:
						launched = true
					case *dap.InitializedEvent:
					default:
						t.Fatalf("launch: %#v", m)
					}
				}
				c.SetBreakpointsRequest(src, []int{12})
				c.CheckSetBreakpointsResponse(t, nextMessage(t, c))
				c.ConfigurationDoneRequest()
				var seen []string
				for done := false; !done; {
					m := nextMessage(t, c)
					seen = append(seen, fmt.Sprintf("%T", m))
					switch m := m.(type) {
					case *dap.ProcessEvent:
						procs = append(procs, m.Body)
					case *dap.StoppedEvent:
						done = true
						if m.Body.Reason != "breakpoint" {
							t.Errorf("stopped %+v, want the breakpoint", m.Body)
						}
					case *dap.TerminatedEvent:
						done = true
					}
				}
				want := "[*dap.ConfigurationDoneResponse *dap.ProcessEvent *dap.StoppedEvent]"
				if regex != "" {
					want = "[*dap.ConfigurationDoneResponse *dap.ProcessEvent *dap.ExitedEvent *dap.TerminatedEvent]"
				}
				if fmt.Sprint(seen) != want {
					t.Errorf("after configurationDone: %v, want %s", seen, want)
				}
				if len(procs) != 2 || procs[0].StartMethod != "launch" || procs[1] != (dap.ProcessEventBody{Name: bin + " child", SystemProcessId: procs[1].SystemProcessId, IsLocalProcess: true}) ||
					procs[1].SystemProcessId == procs[0].SystemProcessId || procs[1].SystemProcessId <= 0 {
					t.Errorf("process events %+v: want the launch, then the child %q", procs, bin+" child")
				}
				if regex == "" {
					c.StackTraceRequest(1, 0, 1)
					if top := c.CheckStackTraceResponse(t, nextMessage(t, c)).Body.StackFrames[0]; top.Name != "main.childWork" || top.Line != 12 {
						t.Errorf("stopped at %s:%d, want main.childWork line 12", top.Name, top.Line)
					}
				}
			})
		}
	}
}
