package debugger_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
)

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
	h := hits[0]
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
