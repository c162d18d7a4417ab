package debugger_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// breakByLocation sets a breakpoint the way the REPL's `break spec` and
// Delve's clients do: FindLocation, then CreateBreakpoint on the PCs of
// the one location found.
func breakByLocation(t *testing.T, d *debugger.Debugger, spec, fn string, pcs int) *api.Breakpoint {
	t.Helper()
	locs, err := d.FindLocation(-1, 0, spec)
	if err != nil {
		t.Fatalf("find %s: %v", spec, err)
	}
	if len(locs) != 1 || len(locs[0].PCs) != pcs || locs[0].Function.Name() != fn || locs[0].PC != locs[0].PCs[0] {
		t.Fatalf("find %s: %+v, want one location in %s with %d PCs", spec, locs, fn, pcs)
	}
	bp, err := d.CreateBreakpoint(api.Breakpoint{Addr: locs[0].PC, Addrs: locs[0].PCs}, "")
	if err != nil {
		t.Fatalf("break %s: %v", spec, err)
	}
	if len(bp.Addrs) != pcs || bp.FunctionName != fn || bp.ExprString != "" {
		t.Fatalf("break %s: %d addresses %#x, function %q, expr %q; want %d, %q and no expression (it is set)", spec, len(bp.Addrs), bp.Addrs, bp.FunctionName, bp.ExprString, pcs, fn)
	}
	return bp
}

// stops continues until the program exits and lists where it stopped,
// as "function:line" of the thread (the physical function, as Delve
// reports it) with "/innermost" when frame 0 is an inlined function,
// then "@exit N".
func stops(t *testing.T, d *debugger.Debugger) string {
	t.Helper()
	var out []string
	for i := 0; i < 50; i++ {
		st := run(t, d, api.Continue)
		if st.Exited {
			return strings.Join(append(out, fmt.Sprintf("@exit %d", st.ExitStatus)), " ")
		}
		th := st.CurrentThread
		stop := fmt.Sprintf("%s:%d", th.Function.Name(), th.Line)
		frames, err := d.Stacktrace(-1, 0, 0, nil)
		if err != nil || len(frames) == 0 {
			t.Fatalf("stacktrace at %s: %v", stop, err)
		}
		if top := frames[0].Function.Name(); top != th.Function.Name() {
			stop += "/" + top
		}
		out = append(out, stop)
	}
	t.Fatalf("no exit after 50 stops: %v", out)
	return ""
}

func hits(t *testing.T, d *debugger.Debugger, id int) uint64 {
	t.Helper()
	bp, err := d.GetBreakpoint(id, "")
	if err != nil {
		t.Fatal(err)
	}
	return bp.TotalHitCount
}

// TestBreakInlinedOnlyFunc: add has no out-of-line copy, only two inlined
// ones (into main, and into twice inlined into main). `break main.add`
// and `break add` make one breakpoint that stops in both.
func TestBreakInlinedOnlyFunc(t *testing.T) {
	for _, fl := range []fixture.Flavour{{Optimized: true}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			d := launch(t, "inlinedonly", fl)
			bp := breakByLocation(t, d, "main.add", "main.add", 2)
			// The copies begin on lines 10 and 9: Delve 1.27.2 says
			// "<multiple locations>:0" for such a breakpoint.
			if bp.FunctionName != "main.add" || bp.File != "<multiple locations>" || bp.Line != 0 {
				t.Fatalf("breakpoint at %s %s:%d", bp.FunctionName, bp.File, bp.Line)
			}
			if got := stops(t, d); got != "main.main:10/main.add main.main:9/main.add @exit 7" {
				t.Fatalf("stops: %s", got)
			}
			if n := hits(t, d, bp.ID); n != 2 {
				t.Fatalf("%d hits, want 2", n)
			}
		})
	}
	d := launch(t, "inlinedonly", fixture.Flavour{Optimized: true})
	bp, err := d.CreateBreakpoint(api.Breakpoint{}, "main.add")
	if err != nil || len(bp.Addrs) != 2 || bp.FunctionName != "main.add" || bp.ExprString != "" || bp.File != "<multiple locations>" || bp.Line != 0 {
		t.Fatalf("break add: %+v %v", bp, err)
	}
	if got := stops(t, d); got != "main.main:10/main.add main.main:9/main.add @exit 7" {
		t.Fatalf("stops: %s", got)
	}
}

// TestBreakFuncWithInlinedCopies: half is kept out of line (called
// through sink) and inlined into first and second; its breakpoint covers
// the three copies.
func TestBreakFuncWithInlinedCopies(t *testing.T) {
	d := launch(t, "inlinedtwice", fixture.Flavour{Optimized: true})
	bp := breakByLocation(t, d, "main.half", "main.half", 3)
	// All three copies begin on line 6: Delve keeps that file:line.
	if !strings.HasSuffix(bp.File, "inlinedtwice/main.go") || bp.Line != 6 {
		t.Fatalf("breakpoint at %s:%d, want inlinedtwice/main.go:6", bp.File, bp.Line)
	}
	if got := stops(t, d); got != "main.first:6/main.half main.second:6/main.half main.half:6 @exit 0" {
		t.Fatalf("stops: %s", got)
	}
	if n := hits(t, d, bp.ID); n != 3 {
		t.Fatalf("%d hits, want 3", n)
	}
}

// TestBreakSquareInlined: in the optimized inlining fixture square exists
// only inlined, once, in sumSquares' loop, itself inlined into main;
// `break main.square` stops once per iteration.
func TestBreakSquareInlined(t *testing.T) {
	d := launch(t, "inlining", fixture.Flavour{Optimized: true})
	bp := breakByLocation(t, d, "main.square", "main.square", 1)
	want := strings.Repeat("main.main:6/main.square ", 10) + "@exit 0"
	if got := stops(t, d); got != want {
		t.Fatalf("stops: %s\nwant %s", got, want)
	}
	if n := hits(t, d, bp.ID); n != 10 {
		t.Fatalf("%d hits, want 10", n)
	}
}
