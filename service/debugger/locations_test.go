package debugger_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/service/api"
)

// wantLoc checks a location's function, file base name and line.
func wantLoc(t *testing.T, what string, fn, file string, line int, gotFn *api.Function, gotFile string, gotLine int) {
	t.Helper()
	if gotFn.Name() != fn || filepath.Base(gotFile) != file || gotLine != line {
		t.Fatalf("%s: %s() %s:%d, want %s() %s:%d", what, gotFn.Name(), gotFile, gotLine, fn, file, line)
	}
}

// TestFunctionBreakpointInInlinedEntry: inlinedentry's main.main starts
// with setMode(3), inlined. As in Delve, a breakpoint set on main.main, by
// name or by the address FindLocation gives (what the REPL does), goes at
// prologue_end, before the inlined call, on main.main's func line
// (main.go:8), and so does the stop on it; a breakpoint on the inlined line
// itself is a later address; relative locations count from the func line.
func TestFunctionBreakpointInInlinedEntry(t *testing.T) {
	d := launch(t, "inlinedentry", fixture.Flavour{Optimized: true})
	locs, err := d.FindLocation(-1, 0, "main.main")
	if err != nil || len(locs) != 1 {
		t.Fatalf("FindLocation main.main: %+v %v", locs, err)
	}
	wantLoc(t, "FindLocation main.main", "main.main", "main.go", 8, locs[0].Function, locs[0].File, locs[0].Line)

	byName, err := d.CreateBreakpoint(api.Breakpoint{}, "main.main")
	if err != nil {
		t.Fatal(err)
	}
	if byName.FunctionName != "main.main" || filepath.Base(byName.File) != "main.go" || byName.Line != 8 || byName.Addr != locs[0].PC {
		t.Fatalf("breakpoint by name: %s %s:%d at %#x", byName.FunctionName, byName.File, byName.Line, byName.Addr)
	}
	if _, err := d.ClearBreakpoint(byName.ID, ""); err != nil {
		t.Fatal(err)
	}
	byAddr, err := d.CreateBreakpoint(api.Breakpoint{Addr: locs[0].PC, Addrs: locs[0].PCs}, "")
	if err != nil {
		t.Fatal(err)
	}
	if byAddr.FunctionName != "main.main" || filepath.Base(byAddr.File) != "main.go" || byAddr.Line != 8 {
		t.Fatalf("breakpoint by address: %s %s:%d", byAddr.FunctionName, byAddr.File, byAddr.Line)
	}
	// The inlined line itself is inside the body, after the breakpoint.
	lineLocs, err := d.FindLocation(-1, 0, "mode.go:7")
	if err != nil || len(lineLocs) != 1 {
		t.Fatalf("FindLocation mode.go:7: %+v %v", lineLocs, err)
	}
	if l := lineLocs[0]; filepath.Base(l.File) != "mode.go" || l.Line != 7 || l.PC <= locs[0].PC {
		t.Fatalf("mode.go:7 is %s:%d at %#x, want mode.go:7 after %#x", l.File, l.Line, l.PC, locs[0].PC)
	}

	st := run(t, d, api.Continue)
	th := st.CurrentThread
	wantLoc(t, "stop", "main.main", "main.go", 8, th.Function, th.File, th.Line)
	if th.Breakpoint == nil || th.Breakpoint.ID != byAddr.ID || th.Breakpoint.Line != 8 {
		t.Fatalf("stop on breakpoint %+v, want %d at main.go:8", th.Breakpoint, byAddr.ID)
	}
	g := st.SelectedGoroutine
	wantLoc(t, "selected goroutine", "main.main", "main.go", 8, g.CurrentLoc.Function, g.CurrentLoc.File, g.CurrentLoc.Line)
	for spec, want := range map[string]int{"+1": 9, "+3": 11, "11": 11, "+0": 8} {
		locs, err := d.FindLocation(-1, 0, spec)
		if err != nil || len(locs) != 1 {
			t.Fatalf("FindLocation %s: %+v %v", spec, locs, err)
		}
		if filepath.Base(locs[0].File) != "main.go" || locs[0].Line != want {
			t.Errorf("FindLocation %s: %s:%d, want main.go:%d", spec, locs[0].File, locs[0].Line, want)
		}
	}
	// Not yet in the inlined call: main.main is frame 0, runtime.main frame 1.
	frames, err := d.Stacktrace(-1, 1, 0, nil)
	if err != nil || len(frames) != 2 {
		t.Fatalf("stack: %+v %v", frames, err)
	}
	if frames[0].Function.Name() != "main.main" || filepath.Base(frames[0].File) != "main.go" || frames[0].Line != 8 ||
		frames[1].Function.Name() != "runtime.main" || filepath.Base(frames[1].File) != "proc.go" {
		t.Errorf("stack %s %s:%d / %s %s:%d", frames[0].Function.Name(), frames[0].File, frames[0].Line,
			frames[1].Function.Name(), frames[1].File, frames[1].Line)
	}
}

// TestRelativeLocationsInDeepStack resolves line numbers and offsets in the
// current file while stopped five calls deep, in frame 0 and in a caller's
// frame: only the frame asked for is unwound, and a stack deeper than that
// is not an error.
func TestRelativeLocationsInDeepStack(t *testing.T) {
	d := launch(t, "recursion", fixture.Flavour{})
	if _, err := d.CreateBreakpoint(api.Breakpoint{Cond: "n == 1"}, "main.fact"); err != nil {
		t.Fatal(err)
	}
	at(t, run(t, d, api.Continue), "main.fact", 5) // the func line, as in Delve
	cases := []struct {
		frame int
		spec  string
		line  int
	}{
		{0, "+1", 6}, {0, "9", 9}, {0, "+4", 9}, {1, "+0", 9}, {4, "-3", 6}, {5, "+1", 14}, {5, "13", 13},
	}
	for _, c := range cases {
		locs, err := d.FindLocation(-1, c.frame, c.spec)
		if err != nil || len(locs) != 1 {
			t.Fatalf("frame %d %s: %+v %v", c.frame, c.spec, locs, err)
		}
		if filepath.Base(locs[0].File) != "main.go" || locs[0].Line != c.line {
			t.Errorf("frame %d %s: %s:%d, want main.go:%d", c.frame, c.spec, locs[0].File, locs[0].Line, c.line)
		}
	}
	if _, err := d.FindLocation(-1, 40, "+1"); err == nil {
		t.Error("frame 40 of a 9-frame stack resolved")
	}
}

// TestBreakpointOnClosureLine: `break main.go:27` in closureline, as the
// REPL sets it (the PCs of FindLocation), covers main.main's statement and
// the closure double past its prologue. Delve describes it as
// "(multiple functions)() .../closureline/main.go:27"; both stops show
// line 27, the closure's with its argument already in place.
func TestBreakpointOnClosureLine(t *testing.T) {
	d := launch(t, "closureline", fixture.Flavour{})
	locs, err := d.FindLocation(-1, 0, "main.go:27")
	if err != nil || len(locs) != 1 || len(locs[0].PCs) != 2 {
		t.Fatalf("FindLocation main.go:27: %+v %v", locs, err)
	}
	bp, err := d.CreateBreakpoint(api.Breakpoint{Addr: locs[0].PC, Addrs: locs[0].PCs}, "")
	if err != nil {
		t.Fatal(err)
	}
	if bp.FunctionName != "(multiple functions)" || !strings.HasSuffix(bp.File, "closureline/main.go") || bp.Line != 27 || len(bp.Addrs) != 2 {
		t.Fatalf("breakpoint: %s %s:%d at %#x", bp.FunctionName, bp.File, bp.Line, bp.Addrs)
	}
	at(t, run(t, d, api.Continue), "main.main", 27)
	at(t, run(t, d, api.Continue), "main.main.func1", 27)
	args, err := d.FunctionArguments(-1, 0, api.LoadConfig{})
	if err != nil || len(args) < 1 || args[0].Name != "x" || args[0].Value != "12" {
		t.Fatalf("args of double at its breakpoint: %+v %v", args, err)
	}
}

// TestBreakpointOnGenericFunction: `break main.Sum` names no function of
// the binary, only its instantiations main.Sum[go.shape.int] and
// main.Sum[go.shape.float64]; as in Delve, the breakpoint covers both,
// after each prologue, and is named main.Sum (Delve: "Breakpoint 1 set
// at 0x4bda44,0x4bdb04 for main.Sum() .../main.go:17").
func TestBreakpointOnGenericFunction(t *testing.T) {
	d := launch(t, "generics", fixture.Flavour{})
	bi, err := bininfo.Open(fixture.Build(t, "generics", fixture.Flavour{}))
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	var want []uint64
	for _, name := range []string{"main.Sum[go.shape.float64]", "main.Sum[go.shape.int]"} {
		fn, err := bi.LookupFunc(name)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, bi.FirstPCAfterPrologue(fn))
	}
	slices.Sort(want)
	locs, err := d.FindLocation(-1, 0, "main.Sum")
	if err != nil || len(locs) != 1 || !slices.Equal(locs[0].PCs, want) {
		t.Fatalf("FindLocation main.Sum: %+v %v, want PCs %#x", locs, err, want)
	}
	bp, err := d.CreateBreakpoint(api.Breakpoint{Addr: locs[0].PC, Addrs: locs[0].PCs}, "")
	if err != nil {
		t.Fatal(err)
	}
	if bp.FunctionName != "main.Sum" || filepath.Base(bp.File) != "main.go" || bp.Line != 17 || !slices.Equal(bp.Addrs, want) {
		t.Fatalf("breakpoint: %s %s:%d at %#x", bp.FunctionName, bp.File, bp.Line, bp.Addrs)
	}
	put, err := d.CreateBreakpoint(api.Breakpoint{}, "Box.Put")
	if err != nil || put.FunctionName != "main.(*Box).Put" || len(put.Addrs) != 1 {
		t.Fatalf("breakpoint on Box.Put: %+v %v", put, err)
	}
	at(t, run(t, d, api.Continue), "main.Sum[go.shape.int]", 17)
	at(t, run(t, d, api.Continue), "main.Sum[go.shape.float64]", 17)
	at(t, run(t, d, api.Continue), "main.(*Box[go.shape.string]).Put", 44)
}

// TestBreakpointOnFunctionInlinedElsewhere: optimized, main.direct inlines
// crossinline/lib.(*Box).Pos, which lib itself never inlines (as go/parser
// inlines go/ast.(*SwitchStmt).Pos; Delve: 2 addresses). The breakpoint
// covers the out-of-line copy and the copy in main.direct, and stops in
// both: first inlined in direct, then out of line through lib.Walk.
func TestBreakpointOnFunctionInlinedElsewhere(t *testing.T) {
	d := launch(t, "crossinline", fixture.Flavour{Optimized: true})
	bp, err := d.CreateBreakpoint(api.Breakpoint{}, "lib.(*Box).Pos")
	if err != nil {
		t.Fatal(err)
	}
	if len(bp.Addrs) != 2 {
		t.Fatalf("breakpoint at %#x, want the out-of-line copy and the one inlined in main.direct", bp.Addrs)
	}
	// As in Delve, the stop names the function owning the code.
	at(t, run(t, d, api.Continue), "main.direct", 11)
	frames, err := d.Stacktrace(-1, 2, 0, nil)
	if err != nil || len(frames) < 2 || frames[0].Function.Name() != "crossinline/lib.(*Box).Pos" ||
		frames[1].Function.Name() != "main.direct" || frames[1].PC != frames[0].PC {
		t.Fatalf("first stop: %+v %v, want Pos inlined in main.direct", frames, err)
	}
	at(t, run(t, d, api.Continue), "crossinline/lib.(*Box).Pos", 11)
	frames, err = d.Stacktrace(-1, 2, 0, nil)
	if err != nil || len(frames) < 2 || frames[1].Function.Name() != "crossinline/lib.Walk" {
		t.Fatalf("second stop: %+v %v, want Pos called from lib.Walk", frames, err)
	}
}
