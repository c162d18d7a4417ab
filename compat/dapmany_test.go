package compat

import (
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestDAPManyGoroutines lists and steps a program with 10,000 parked
// goroutines on tinydbg dap and dlv dap: threads holds Delve's page of
// 1024 with its console note, and next steps main.main's loop with all
// of them alive. (How long both take is measured in bench/, not here.)
func TestDAPManyGoroutines(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "manygoroutines", fixture.Flavour{})
	for _, d := range dapDebuggers(t) {
		t.Run(d.name, func(t *testing.T) {
			c := dapClient(t, d.path)
			c.InitializeRequest()
			c.CheckInitializeResponse(t, nextMessage(t, c))
			c.LaunchRequestWithArgs(map[string]any{"request": "launch", "mode": "exec", "program": bin, "args": []string{"10000"}})
			for m := nextMessage(t, c); ; m = nextMessage(t, c) {
				if _, ok := m.(*dap.LaunchResponse); ok {
					break
				}
			}
			c.SetFunctionBreakpointsRequest([]dap.FunctionBreakpoint{{Name: "main.ready"}})
			c.CheckSetFunctionBreakpointsResponse(t, nextMessage(t, c))
			c.ConfigurationDoneRequest()
			if m, ok := nextMessage(t, c).(*dap.ConfigurationDoneResponse); !ok || !m.Success {
				t.Fatalf("configurationDone: %#v", m)
			}
			stop := c.CheckStoppedEvent(t, nextMessage(t, c)).Body
			c.ThreadsRequest()
			var notes []string
			var threads []dap.Thread
			for threads == nil {
				switch m := c.ExpectMessage(t).(type) {
				case *dap.OutputEvent:
					if m.Body.Category == "console" {
						notes = append(notes, m.Body.Output)
					}
				case *dap.ThreadsResponse:
					threads = m.Body.Threads
				}
			}
			if len(threads) != 1024 || len(notes) != 1 || notes[0] != "Too many goroutines, only loaded 1024\n" {
				t.Fatalf("%d threads, console %q; want 1024 and Delve's note", len(threads), notes)
			}
			c.StepOutRequest(stop.ThreadId)
			if m, ok := nextMessage(t, c).(*dap.StepOutResponse); !ok || !m.Success {
				t.Fatalf("stepOut: %#v", m)
			}
			c.CheckStoppedEvent(t, nextMessage(t, c))
			c.CheckStopLocation(t, stop.ThreadId, "main.main", 41)
			for i, line := range []int{42, 43, 44, 42, 43} {
				c.NextRequest(stop.ThreadId)
				if m, ok := nextMessage(t, c).(*dap.NextResponse); !ok || !m.Success {
					t.Fatalf("next %d: %#v", i, m)
				}
				if st := c.CheckStoppedEvent(t, nextMessage(t, c)).Body; st.Reason != "step" {
					t.Fatalf("next %d: stopped %+v", i, st)
				}
				c.CheckStopLocation(t, stop.ThreadId, "main.main", line)
			}
			c.DisconnectRequestWithKillOption(true)
		})
	}
}
