package debugger_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
)

// TestKernelTracepointCondition: tracepoints whose conditions compile run
// in the kernel with the condition in front of the capture: the continue
// stops only at the breakpoint of line 33, the tracepoint whose condition
// holds has its one hit, the other none, and neither is left to stopping.
func TestKernelTracepointCondition(t *testing.T) {
	testenv.RequireRoot(t)
	d := launch(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	yes, err := d.CreateBreakpoint(api.Breakpoint{File: src, Line: 15, Tracepoint: true, Cond: "sum == 7", Variables: []string{"sum"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	no, err := d.CreateBreakpoint(api.Breakpoint{File: src, Line: 20, Tracepoint: true, Cond: "k == 3", Variables: []string{"k"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateBreakpoint(api.Breakpoint{File: src, Line: 33}, ""); err != nil {
		t.Fatal(err)
	}
	why, err := d.SyncKernelTracepoints()
	if err != nil || len(why) != 0 {
		t.Fatalf("sync: %v %v", why, err)
	}
	st := run(t, d, api.Continue)
	if st.CurrentThread == nil || st.CurrentThread.Line != 33 {
		t.Fatalf("stopped at %+v", st.CurrentThread)
	}
	hits, lost := d.KernelTraceHits(true)
	if len(hits) != 1 || lost != 0 {
		t.Fatalf("%d hits, %d lost", len(hits), lost)
	}
	h := hits[0]
	if h.Breakpoint.ID != yes.ID || len(h.BreakpointInfo.Variables) != 1 || h.BreakpointInfo.Variables[0].SinglelineString() != "7" {
		t.Fatalf("hit %+v", h)
	}
	for _, c := range []struct {
		id   int
		hits uint64
	}{{yes.ID, 1}, {no.ID, 0}} {
		got, err := d.GetBreakpoint(c.id, "")
		// At the stop the tracer's probes are gone and the condition is
		// the breakpoint's own again, in the kernel.
		if err != nil || got.TotalHitCount != c.hits || got.CondEval != "in kernel" {
			t.Fatalf("tracepoint %d: %+v %v; want %d hits, condition in kernel", c.id, got, err, c.hits)
		}
	}
}
