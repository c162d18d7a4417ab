package dap

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// threadNames asks for the threads and returns their names by id.
func (c *testClient) threadNames() map[int]string {
	c.t.Helper()
	seq := c.send("threads", nil)
	out := map[int]string{}
	for _, th := range expectResponse[*dap.ThreadsResponse](c, seq).Body.Threads {
		out[th.Id] = th.Name
	}
	return out
}

// lineIn returns the line of fn's innermost frame on goid's stack.
func (c *testClient) lineIn(goid int, fn string) int {
	c.t.Helper()
	for _, f := range c.stack(goid, 0, 20).Body.StackFrames {
		if f.Name == fn {
			return f.Line
		}
	}
	c.t.Fatalf("no %s on the stack of goroutine %d", fn, goid)
	return 0
}

// goroutineReads is how many times the session's debugger has read the
// target's goroutine list.
func goroutineReads(ts *testServer) uint64 {
	ts.srv.mu.Lock()
	defer ts.srv.mu.Unlock()
	return ts.srv.sess.dbg.GoroutineReads()
}

// threadSuffix is the " (Thread N)" of a name, whose N is the OS's.
var threadSuffix = regexp.MustCompile(` \(Thread \d+\)$`)

// TestThreadsReadOncePerStop stops the parked fixture in main.ready, with
// waiter parked on a channel, then in waiter once it runs: the threads
// list and the stack of a parked goroutine are read from the target once
// per stop, and every resume, step and setVariable reads them afresh, so
// that each stop shows its own goroutines.
func TestThreadsReadOncePerStop(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "parked", fixture.Flavour{})
	ts := startServer(t)
	c := dial(t, ts)
	c.launch(map[string]any{"mode": "exec", "program": bin})
	seq := c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main.ready"}}})
	expectResponse[*dap.SetFunctionBreakpointsResponse](c, seq)
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fixture.Source("parked")}, "breakpoints": []map[string]any{{"line": 10}}})
	expectResponse[*dap.SetBreakpointsResponse](c, seq)
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	if stop := expect[*dap.StoppedEvent](c); stop.Body.ThreadId != 1 {
		t.Fatalf("first stop on goroutine %d, want 1", stop.Body.ThreadId)
	}

	// Stop 1: main in ready, waiter parked in its receive.
	before := goroutineReads(ts)
	first := c.threadNames()
	afterFirst := goroutineReads(ts)
	if afterFirst != before+1 {
		t.Errorf("the first threads request read the goroutines %d times, want once", afterFirst-before)
	}
	waiter := 0
	for id, name := range first {
		if name == fmt.Sprintf("[Go %d] main.waiter", id) {
			waiter = id
		}
	}
	if waiter == 0 || !regexp.MustCompile(`^\* \[Go 1\] main\.ready \(Thread \d+\)$`).MatchString(first[1]) {
		t.Fatalf("threads at main.ready: %v, want * [Go 1] main.ready (Thread N) and [Go N] main.waiter", first)
	}
	again := c.threadNames()
	if fmt.Sprint(again) != fmt.Sprint(first) {
		t.Errorf("second threads request %v, want the first's %v", again, first)
	}
	if l := c.lineIn(waiter, "main.waiter"); l != 9 {
		t.Errorf("parked waiter at line %d, want 9", l)
	}
	if n := goroutineReads(ts); n != afterFirst {
		t.Errorf("a second threads request and the stack of parked goroutine %d read the goroutines %d more times, want none", waiter, n-afterFirst)
	}

	// Stop 2: waiter received and runs; main waits on done.
	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	if stop := expect[*dap.StoppedEvent](c); stop.Body.ThreadId != waiter {
		t.Fatalf("second stop on goroutine %d, want waiter %d", stop.Body.ThreadId, waiter)
	}
	readsBefore := goroutineReads(ts)
	second := c.threadNames()
	if goroutineReads(ts) == readsBefore {
		t.Errorf("threads after continue did not read the goroutines again")
	}
	if !regexp.MustCompile(fmt.Sprintf(`^\* \[Go %d\] main\.waiter \(Thread \d+\)$`, waiter)).MatchString(second[waiter]) || threadSuffix.ReplaceAllString(second[1], "") != "[Go 1] main.main" {
		t.Errorf("threads at waiter's line 10: goroutine %d %q and 1 %v, want * [Go %d] main.waiter (Thread N) and [Go 1] main.main", waiter, second[waiter], second[1], waiter)
	}
	c.checkTop(waiter, "main.waiter", 10)

	// A step ends a stop too.
	seq = c.send("next", map[string]any{"threadId": waiter})
	expectResponse[*dap.NextResponse](c, seq)
	expect[*dap.StoppedEvent](c)
	readsBefore = goroutineReads(ts)
	third := c.threadNames()
	if goroutineReads(ts) == readsBefore {
		t.Errorf("threads after next did not read the goroutines again")
	}
	if threadSuffix.ReplaceAllString(third[waiter], "") != fmt.Sprintf("* [Go %d] main.waiter", waiter) {
		t.Errorf("threads after next: goroutine %d %q, want * [Go %d] main.waiter (Thread N)", waiter, third[waiter], waiter)
	}
	c.checkTop(waiter, "main.waiter", 11)
	if v := c.argValue(waiter, "v"); v != "42" {
		t.Errorf("v after next = %s, want 42", v)
	}

	// setVariable writes the target: the next list is read again.
	f := c.stack(waiter, 0, 1).Body.StackFrames[0]
	seq = c.send("setVariable", map[string]any{"variablesReference": c.scopes(f.Id)["Locals"], "name": "v", "value": "7"})
	if sv := expectResponse[*dap.SetVariableResponse](c, seq); sv.Body.Value != "7" {
		t.Fatalf("setVariable: %+v", sv.Body)
	}
	readsBefore = goroutineReads(ts)
	if got := c.threadNames(); fmt.Sprint(got) != fmt.Sprint(third) {
		t.Errorf("threads after setVariable %v, want %v", got, third)
	}
	if goroutineReads(ts) == readsBefore {
		t.Errorf("threads after setVariable did not read the goroutines again")
	}

	if v := c.argValue(waiter, "v"); v != "7" {
		t.Errorf("v after setVariable = %s, want 7", v)
	}
	seq = c.send("disconnect", map[string]any{"terminateDebuggee": true})
	expectResponse[*dap.DisconnectResponse](c, seq)
}
