package debugger_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// traceToLine33 puts basic's tracepoints in the kernel, more BPF links
// than before, continues to the breakpoint at line 33 and returns the one
// tracepoint hit on the way there.
func traceToLine33(t *testing.T, d *debugger.Debugger, before int) api.Thread {
	t.Helper()
	why, err := d.SyncKernelTracepoints()
	if err != nil || len(why) != 0 {
		t.Fatalf("sync: %v %v", why, err)
	}
	if n := testenv.BPFLinks(t); n <= before {
		t.Fatalf("%d BPF links after sync, %d before", n, before)
	}
	st := run(t, d, api.Continue)
	if st.CurrentThread == nil || st.CurrentThread.Line != 33 {
		t.Fatalf("stopped at %+v", st.CurrentThread)
	}
	hits, lost := d.KernelTraceHits(true)
	if len(hits) != 1 || lost != 0 {
		t.Fatalf("%d hits, %d lost", len(hits), lost)
	}
	return hits[0]
}

// TestKernelTracepoint: a tracepoint on main.add's line 15 with "on print"
// values runs in the kernel: the continue that follows never stops there
// (the next stop is the breakpoint at line 33), the hit is the thread a
// stop would report, with the arguments and values, and at the stop the
// probe is gone and the tracepoint's count is 1, its int3 back in place.
func TestKernelTracepoint(t *testing.T) {
	testenv.RequireRoot(t)
	d := launch(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	short := api.ShortLoadConfig
	tp, err := d.CreateBreakpoint(api.Breakpoint{File: src, Line: 15, Tracepoint: true, LoadArgs: &short, Variables: []string{"sum", "a"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateBreakpoint(api.Breakpoint{File: src, Line: 33}, ""); err != nil {
		t.Fatal(err)
	}
	before := testenv.BPFLinks(t)
	h := traceToLine33(t, d, before)
	var args []string
	for _, a := range h.BreakpointInfo.Arguments {
		args = append(args, a.Name+"="+a.SinglelineString())
	}
	var vals []string
	for _, v := range h.BreakpointInfo.Variables {
		vals = append(vals, v.Name+"="+v.SinglelineString())
	}
	if h.GoroutineID != 1 || h.Function.Name() != "main.add" || h.Breakpoint.ID != tp.ID ||
		len(args) != 3 || args[0] != "a=3" || args[1] != "b=4" || h.BreakpointInfo.Arguments[2].Flags&api.VariableReturnArgument == 0 ||
		len(vals) != 2 || vals[0] != "sum=7" || vals[1] != "a=3" {
		t.Fatalf("hit %+v: args %q values %q", h, args, vals)
	}
	if n := testenv.BPFLinks(t); n != before {
		t.Errorf("%d BPF links at the stop, %d before", n, before)
	}
	got, err := d.GetBreakpoint(tp.ID, "")
	if err != nil || got.TotalHitCount != 1 || got.HitCount["1"] != 1 || got.Disabled {
		t.Fatalf("tracepoint after the stop: %+v %v", got, err)
	}
	code, err := d.ExamineMemory(got.Addr, 1)
	if err != nil || code[0] == 0xcc {
		t.Fatalf("byte at the tracepoint: %x %v (shown as the program's own)", code, err)
	}
}

// TestKernelTracepointCondition: tracepoints whose conditions compile run
// in the kernel with the condition in front of the capture: the continue
// stops only at the breakpoint of line 33, the tracepoint whose condition
// holds has its one hit, the other none, and neither is left to stopping.
func TestKernelTracepointCondition(t *testing.T) {
	testenv.RequireRoot(t)
	d := launch(t, "basic", fixture.Flavour{})
	before := testenv.BPFLinks(t) // the conditions' own probes come and go
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
	h := traceToLine33(t, d, before)
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
