package dap

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestThreadsPaged lists a program with 2,000 parked goroutines: as Delve,
// the threads response holds the first maxGoroutines of them and a console
// line says the list is cut.
func TestThreadsPaged(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "manygoroutines", fixture.Flavour{})
	ts := startServer(t)
	c := dial(t, ts)
	c.initialize()
	seq := c.send("launch", map[string]any{"mode": "exec", "program": bin, "args": []string{"2000"}})
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.LaunchResponse](c, seq)
	seq = c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main.ready"}}})
	expectResponse[*dap.SetFunctionBreakpointsResponse](c, seq)
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c)
	if stop.Body.ThreadId != 1 {
		t.Fatalf("stopped on goroutine %d, want 1", stop.Body.ThreadId)
	}
	seq = c.send("threads", nil)
	var notes []string
	var threads []dap.Thread
	for threads == nil {
		switch m := c.nextAny().(type) {
		case *dap.OutputEvent:
			if m.Body.Category == "console" {
				notes = append(notes, m.Body.Output)
			}
		case *dap.ThreadsResponse:
			if m.RequestSeq != seq || !m.Success {
				t.Fatalf("threads: %+v", m)
			}
			threads = m.Body.Threads
		}
	}
	want := fmt.Sprintf("Too many goroutines, only loaded %d\n", maxGoroutines)
	if len(notes) != 1 || notes[0] != want {
		t.Errorf("console output %q, want [%q]", notes, want)
	}
	if len(threads) != maxGoroutines {
		t.Fatalf("%d threads, want %d", len(threads), maxGoroutines)
	}
	if n := threads[0].Name; threads[0].Id != 1 || !strings.HasPrefix(n, "* [Go 1] main.ready (Thread ") || !strings.HasSuffix(n, ")") {
		t.Errorf("first thread %+v, want * [Go 1] main.ready (Thread N)", threads[0])
	}
	seen := map[int]bool{}
	parked := 0
	for _, th := range threads {
		if seen[th.Id] {
			t.Errorf("goroutine %d listed twice", th.Id)
		}
		seen[th.Id] = true
		if th.Name == fmt.Sprintf("[Go %d] main.park", th.Id) {
			parked++
		} else if th.Id != 1 && !strings.Contains(th.Name, "] runtime.") {
			t.Errorf("thread %+v is neither main.park nor the runtime's", th)
		}
	}
	// The runtime's own goroutines (GC workers, finalizer...) come first in
	// allgs after main; the rest of the page is the fixture's.
	if parked < maxGoroutines-20 {
		t.Errorf("%d threads in main.park, want at least %d", parked, maxGoroutines-20)
	}
	seq = c.send("disconnect", nil)
	expectResponse[*dap.DisconnectResponse](c, seq)
}
