package bininfo

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestLineBreakpointOnClosureLine: in closureline, line 27 creates double
// and is also the line double's body starts on; line 13 likewise for the
// closure counter returns. The breakpoint goes on the line's statement in
// the enclosing function and, in the closure, past its prologue, where
// the closure's own breakpoint is (Delve: 0x4bcd41,0x4bcea4 for line 27),
// not on the entry's stack check.
func TestLineBreakpointOnClosureLine(t *testing.T) {
	cases := []struct {
		line          int
		outer, inside string
	}{
		{27, "main.main", "main.main.func1"},
		{13, "main.counter", "main.counter.func1"},
	}
	for _, tc := range fixture.Toolchains {
		for _, f := range []fixture.Flavour{{Toolchain: tc}, {PIE: true, Toolchain: tc}} {
			t.Run(f.Name(), func(t *testing.T) {
				bi := openFixture(t, "closureline", f)
				if f.PIE {
					bi.SetLoadBias(0x555555554000)
				}
				for _, c := range cases {
					outer, err := bi.LookupFunc(c.outer)
					if err != nil {
						t.Fatal(err)
					}
					inside, err := bi.LookupFunc(c.inside)
					if err != nil {
						t.Fatal(err)
					}
					if _, line, _ := bi.PCToLine(inside.Entry); line != c.line {
						t.Fatalf("%s starts on line %d, want %d: the fixture lost its shape", c.inside, line, c.line)
					}
					stmts, err := bi.LineToPCs("closureline/main.go", c.line)
					if err != nil {
						t.Fatal(err)
					}
					var first uint64
					for _, pc := range stmts {
						if bi.PCToFunc(pc) == outer {
							first = pc
							break
						}
					}
					after := bi.FirstPCAfterPrologue(inside)
					want := fmt.Sprintf("[%#x %#x]", first, after)
					pcs, err := bi.LineBreakpointPCs("closureline/main.go", c.line)
					if err != nil {
						t.Fatal(err)
					}
					if got := fmt.Sprintf("%#x", pcs); got != want || first == 0 || after == inside.Entry {
						t.Errorf("line %d: breakpoint at %s, want %s (%s entry %#x)", c.line, got, want, c.inside, inside.Entry)
					}
				}
			})
		}
	}
}

// TestLineBreakpointInEveryInlinedCopy: optimized, next's body (line 14)
// is inlined into main twice (lines 25 and 26); the second copy has no
// statement row on line 14. As Delve does, each copy gets one address:
// its first statement row, else its first row (0x49e15c,0x49e161).
func TestLineBreakpointInEveryInlinedCopy(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		f := fixture.Flavour{Optimized: true, Toolchain: tc}
		t.Run(f.Name(), func(t *testing.T) {
			bi := openFixture(t, "closureline", f)
			pcs, err := bi.LineBreakpointPCs("closureline/main.go", 14)
			if err != nil {
				t.Fatal(err)
			}
			stmts, err := bi.LineToPCs("closureline/main.go", 14)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, pc := range pcs {
				inl := bi.InlinedCallsAt(pc)
				if len(inl) == 0 {
					t.Fatalf("%#x is not inlined code", pc)
				}
				stmt := slices.Contains(stmts, pc)
				got = append(got, fmt.Sprintf("%s@%d stmt=%v", inl[0].Func, inl[0].CallLine, stmt))
			}
			// The copies, as DWARF lists them, are where the addresses are.
			var want []string
			for _, s := range dwarfInlinedStarts(t, bi, "main.main.counter.func2") {
				line := strings.TrimPrefix(s[:strings.IndexByte(s, '@')], "main.main:")
				want = append(want, "main.main.counter.func2@"+line)
			}
			if len(want) != 2 || want[0] != "main.main.counter.func2@25" || want[1] != "main.main.counter.func2@26" {
				t.Fatalf("DWARF lists the inlined copies %v: the fixture lost its shape", want)
			}
			if g := strings.Join(got, ", "); g != want[0]+" stmt=true, "+want[1]+" stmt=false" {
				t.Errorf("line 14 breakpoint in %s, want one address in each of %v, the second no statement", g, want)
			}
		})
	}
}

// TestLineBreakpointDelveCases: the func line of a leaf whose entry row is
// no statement goes to the function's first statement (generics, optimized
// Sum: Delve 0x49eaa5,0x49eae5 on line 19); the line of a go statement is
// not also set in the compiler's wrapper of it (parked line 21: Delve one
// address, in main.main).
func TestLineBreakpointDelveCases(t *testing.T) {
	bi := openFixture(t, "generics", fixture.Flavour{Optimized: true})
	var want []string
	for _, name := range []string{"main.Sum[go.shape.float64]", "main.Sum[go.shape.int]"} {
		fn, err := bi.LookupFunc(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, line, _ := bi.PCToLine(fn.Entry); line != 17 {
			t.Fatalf("%s starts on line %d: the fixture lost its shape", name, line)
		}
		// The first statement row of the function.
		stmts, err := bi.StmtPCs(fn, false)
		if err != nil || len(stmts) == 0 {
			t.Fatalf("statements of %s: %v", name, err)
		}
		want = append(want, fmt.Sprintf("%#x", stmts[0].PC))
	}
	pcs, err := bi.LineBreakpointPCs("generics/main.go", 17)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%#x", pcs); got != "["+strings.Join(want, " ")+"]" {
		t.Errorf("generics/main.go:17 at %s, want %v", got, want)
	}

	bi = openFixture(t, "parked", fixture.Flavour{Optimized: true})
	pcs, err = bi.LineBreakpointPCs("parked/main.go", 21)
	if err != nil {
		t.Fatal(err)
	}
	var fns []string
	for _, pc := range pcs {
		fns = append(fns, bi.PCToFunc(pc).Name)
	}
	if strings.Join(fns, " ") != "main.main" {
		t.Errorf("parked/main.go:21 in %v, want main.main only (not its gowrap1)", fns)
	}
}
