package bininfo

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestLookupFuncABISuffix: assembly functions have an ".abi0" ELF symbol
// and a suffix-less DWARF name; both spellings find the same function.
func TestLookupFuncABISuffix(t *testing.T) {
	for _, f := range []fixture.Flavour{{}, {PIE: true}} {
		t.Run(f.Name(), func(t *testing.T) {
			bi := openFixture(t, "basic", f)
			if f.PIE {
				bi.SetLoadBias(0x7f0000000000)
			}
			sym, ok := bi.Symbol("runtime.goexit.abi0")
			if !ok {
				t.Fatal("no runtime.goexit.abi0 symbol")
			}
			if _, ok := bi.Symbol("runtime.goexit"); ok {
				t.Fatal("runtime.goexit has a symbol: the test no longer covers the fallback")
			}
			for _, name := range []string{"runtime.goexit", "runtime.goexit.abi0"} {
				fn, err := bi.LookupFunc(name)
				if err != nil {
					t.Fatalf("LookupFunc(%s): %v", name, err)
				}
				if fn.Name != "runtime.goexit" || fn.Entry != sym.Addr {
					t.Errorf("LookupFunc(%s) = %s at %#x, want runtime.goexit at %#x", name, fn.Name, fn.Entry, sym.Addr)
				}
			}
			// goexit1 exists twice: the Go function and its assembly
			// trampoline, whose DWARF name is also runtime.goexit1.
			goFn, err := bi.LookupFunc("runtime.goexit1")
			if err != nil {
				t.Fatal(err)
			}
			asmFn, err := bi.LookupFunc("runtime.goexit1.abi0")
			if err != nil {
				t.Fatal(err)
			}
			goSym, _ := bi.Symbol("runtime.goexit1")
			asmSym, _ := bi.Symbol("runtime.goexit1.abi0")
			if goFn.Entry != goSym.Addr || asmFn.Entry != asmSym.Addr || goFn.Entry == asmFn.Entry {
				t.Errorf("goexit1: Go %#x (symbol %#x), asm %#x (symbol %#x)", goFn.Entry, goSym.Addr, asmFn.Entry, asmSym.Addr)
			}
		})
	}
}

// TestInlinedAwayFunction: in optimized basic, add(3, 4) is folded into a
// constant, leaving neither symbol nor DWARF; the error says why.
func TestInlinedAwayFunction(t *testing.T) {
	bi := openFixture(t, "basic", fixture.Flavour{Optimized: true})
	_, _, err := bi.LookupFuncInstances("main.add")
	if !errors.Is(err, ErrFuncNotFound) || !strings.Contains(err.Error(), "package main is optimized") {
		t.Fatalf("LookupFuncInstances(main.add) = %v, want not found with the optimization hint", err)
	}
	noopt := openFixture(t, "basic", fixture.Flavour{})
	if _, err := noopt.LookupFunc("main.nosuch"); err == nil || strings.Contains(err.Error(), "optimized") {
		t.Fatalf("LookupFunc(main.nosuch) in -N -l build = %v, want no optimization hint", err)
	}
}

// TestInlinedInstances: add exists only inlined, once into main (line 20)
// and once into twice, itself inlined into main (line 21).
func TestInlinedInstances(t *testing.T) {
	for _, f := range []fixture.Flavour{{Optimized: true}, {Optimized: true, PIE: true}} {
		t.Run(f.Name(), func(t *testing.T) {
			bi := openFixture(t, "inlinedonly", f)
			if f.PIE {
				bi.SetLoadBias(0x555555554000)
			}
			fn, insts, err := bi.LookupFuncInstances("main.add")
			if err != nil {
				t.Fatal(err)
			}
			if fn != nil || len(insts) != 2 {
				t.Fatalf("main.add: out-of-line %v, %d inlined copies, want none and 2", fn, len(insts))
			}
			type want struct {
				callLine, depth, firstLine int
			}
			for i, w := range []want{{20, 1, 10}, {14, 2, 9}} {
				in := insts[i]
				file, line, caller := bi.PCToLine(bi.BreakpointPC(in))
				if in.Func != "main.add" || in.Caller.Name != "main.main" || in.CallLine != w.callLine ||
					filepath.Base(in.CallFile) != "main.go" || in.Depth != w.depth {
					t.Errorf("copy %d: %s in %s called at %s:%d depth %d", i, in.Func, in.Caller.Name, in.CallFile, in.CallLine, in.Depth)
				}
				if line != w.firstLine || caller.Name != "main.main" || !strings.HasSuffix(file, "inlinedonly/main.go") {
					t.Errorf("copy %d: breakpoint at %s:%d in %v, want line %d", i, file, line, caller, w.firstLine)
				}
				if c := bi.InlinedCallsAt(bi.BreakpointPC(in)); len(c) != w.depth || c[0].Offset != in.Offset {
					t.Errorf("copy %d: InlinedCallsAt(breakpoint) = %+v", i, c)
				}
			}
			twice, err := bi.InlinedInstances("main.twice")
			if err != nil || len(twice) != 1 || len(twice[0].Ranges) != 2 || twice[0].CallLine != 21 {
				t.Fatalf("InlinedInstances(main.twice) = %+v, %v", twice, err)
			}
			stmts, err := bi.InstanceStmtPCs(twice[0])
			if err != nil {
				t.Fatal(err)
			}
			if got := stmtLines(stmts); got != "9 15 14" {
				t.Errorf("statements of twice's copy: lines %s, want 9 15 14", got)
			}
		})
	}
}

// TestStmtPCs: the statements of main.main in order of address (its own,
// and those of the calls inlined into it), and of half with its copies.
func TestStmtPCs(t *testing.T) {
	bi := openFixture(t, "inlinedonly", fixture.Flavour{Optimized: true})
	main, err := bi.LookupFunc("main.main")
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := bi.StmtPCs(main, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stmtLines(stmts), "18 18 19 23 10 9 15 20 21 14 22 315 24 18 18"; got != want {
		t.Errorf("StmtPCs(main.main) lines %s, want %s", got, want)
	}
	for _, s := range stmts {
		if s.PC < main.Entry || s.PC >= main.End {
			t.Errorf("statement %#x outside main.main [%#x, %#x)", s.PC, main.Entry, main.End)
		}
	}

	tw := openFixture(t, "inlinedtwice", fixture.Flavour{Optimized: true})
	half, err := tw.LookupFunc("main.half")
	if err != nil {
		t.Fatal(err)
	}
	own, _ := tw.StmtPCs(half, false)
	all, err := tw.StmtPCs(half, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(own) != 1 || own[0].PC != tw.FirstPCAfterPrologue(half) || stmtLines(all) != "6 6 6" {
		t.Fatalf("half: own %+v, with copies %+v", own, all)
	}
	callers := []string{}
	for _, s := range all {
		callers = append(callers, tw.PCToFunc(s.PC).Name)
	}
	if got := strings.Join(callers, " "); got != "main.half main.first main.second" {
		t.Errorf("half's statements are in %s", got)
	}

	noopt := openFixture(t, "basic", fixture.Flavour{})
	add, _ := noopt.LookupFunc("main.add")
	stmts, err = noopt.StmtPCs(add, true)
	if err != nil || stmtLines(stmts) != "13 13 14 15" || stmts[0].PC != add.Entry {
		t.Errorf("StmtPCs(main.add) -N -l = %+v, %v", stmts, err)
	}
}

func stmtLines(stmts []Stmt) string {
	var b strings.Builder
	for i, s := range stmts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(s.Line))
	}
	return b.String()
}

// TestInlinedIntoOtherPackage: lib never inlines (*Box).Pos itself, so its
// out-of-line copy has no abstract origin, yet main.direct inlines it, as
// go/parser inlines go/ast.(*SwitchStmt).Pos. Both copies are found, and
// the inlined one is exactly the DW_TAG_inlined_subroutine DWARF lists.
func TestInlinedIntoOtherPackage(t *testing.T) {
	const name = "crossinline/lib.(*Box).Pos"
	for _, tc := range fixture.Toolchains {
		for _, f := range []fixture.Flavour{{Optimized: true, Toolchain: tc}, {Optimized: true, PIE: true, Toolchain: tc}} {
			t.Run(f.Name(), func(t *testing.T) {
				bi := openFixture(t, "crossinline", f)
				if f.PIE {
					bi.SetLoadBias(0x555555554000)
				}
				fn, insts, err := bi.LookupFuncInstances(name)
				if err != nil {
					t.Fatal(err)
				}
				if fn == nil || fn.AbstractOrigin != 0 {
					t.Fatalf("out-of-line copy %+v: want one without an abstract origin", fn)
				}
				want := dwarfInlinedStarts(t, bi, name)
				var got []string
				for _, in := range insts {
					got = append(got, fmt.Sprintf("%s:%d@%#x", in.Caller.Name, in.CallLine, bi.BreakpointPC(in)))
				}
				if strings.Join(got, " ") != strings.Join(want, " ") || len(want) != 1 || !strings.HasPrefix(want[0], "main.direct:14@") {
					t.Errorf("inlined copies %v, DWARF lists %v (want one, in main.direct at line 14)", got, want)
				}
			})
		}
	}
}

// dwarfInlinedStarts lists, straight from debug/dwarf, every inlined
// subroutine of the function named name as caller:line@start, start being
// the first range's as listed.
func dwarfInlinedStarts(t *testing.T, bi *BinaryInfo, name string) []string {
	t.Helper()
	d, err := bi.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	names := map[dwarf.Offset]string{}
	r := d.Reader()
	var out []string
	caller := ""
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		switch e.Tag {
		case dwarf.TagSubprogram:
			n, _ := e.Val(dwarf.AttrName).(string)
			names[e.Offset] = n
			if _, ok := e.Val(dwarf.AttrLowpc).(uint64); ok {
				caller = n
			}
		case dwarf.TagInlinedSubroutine:
			ao, _ := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
			n, ok := names[ao]
			if !ok {
				ar := d.Reader()
				ar.Seek(ao)
				if ae, err := ar.Next(); err == nil && ae != nil {
					n, _ = ae.Val(dwarf.AttrName).(string)
				}
			}
			if n != name {
				continue
			}
			rs, err := d.Ranges(e)
			if err != nil || len(rs) == 0 {
				t.Fatalf("ranges of %#x: %v", e.Offset, err)
			}
			// The start of the first range as listed: Delve's breakpoint.
			line, _ := e.Val(dwarf.AttrCallLine).(int64)
			out = append(out, fmt.Sprintf("%s:%d@%#x", caller, line, rs[0][0]+bi.Bias()))
		}
	}
	sort.Strings(out)
	return out
}

// TestInlinedBreakpointAtRangeStart: in inlinestart, trimLeftByte's code
// inlined into TrimLeft begins with an instruction that is no statement
// (as bytes.trimLeftByte's does in cmd/gofmt). Its breakpoint is the start
// of the inlined range as DWARF lists it, where Delve puts it (0x49e15d),
// not the first statement inside (0x49e169).
func TestInlinedBreakpointAtRangeStart(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		f := fixture.Flavour{Optimized: true, Toolchain: tc}
		t.Run(f.Name(), func(t *testing.T) {
			bi := openFixture(t, "inlinestart", f)
			fn, insts, err := bi.LookupFuncInstances("main.trimLeftByte")
			if err != nil || fn != nil || len(insts) != 1 {
				t.Fatalf("trimLeftByte: out-of-line %v, %d inlined copies, %v; want none and 1", fn, len(insts), err)
			}
			pc := bi.BreakpointPC(insts[0])
			want := dwarfInlinedStarts(t, bi, "main.trimLeftByte")
			if got := fmt.Sprintf("%s:%d@%#x", insts[0].Caller.Name, insts[0].CallLine, pc); len(want) != 1 || got != want[0] || !strings.HasPrefix(got, "main.TrimLeft:28@") {
				t.Errorf("breakpoint %s, DWARF's copy %v (want in main.TrimLeft at line 28)", got, want)
			}
			stmts, err := bi.StmtPCs(insts[0].Caller, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range stmts {
				if st.PC == pc {
					t.Fatalf("%#x is a statement: the fixture lost its shape", pc)
				}
			}
		})
	}
}

// TestMainInstancesIndex: the index of package main's units alone finds
// every inlined copy of main's functions that the index of all units
// finds, the same ones, on optimized builds of two toolchains; and, having
// read fewer units, it knows fewer functions.
func TestMainInstancesIndex(t *testing.T) {
	for _, tc := range []string{"", fixture.Toolchains[len(fixture.Toolchains)-1]} {
		f := fixture.Flavour{Optimized: true, Toolchain: tc}
		t.Run(f.Name(), func(t *testing.T) {
			bi := openFixture(t, "inlinesites", f)
			main, err := bi.loadMainInstances()
			if err != nil {
				t.Fatal(err)
			}
			all, err := bi.loadInstances()
			if err != nil {
				t.Fatal(err)
			}
			var mainNames []string
			for name, refs := range all.byName {
				if !strings.HasPrefix(name, "main.") {
					continue
				}
				mainNames = append(mainNames, name)
				if fmt.Sprint(main.byName[name]) != fmt.Sprint(refs) {
					t.Errorf("%s: main index %v, whole index %v", name, main.byName[name], refs)
				}
			}
			sort.Strings(mainNames)
			got, err := bi.MainInlinedFuncNames()
			if err != nil || fmt.Sprint(got) != fmt.Sprint(mainNames) || len(got) < 5 {
				t.Fatalf("MainInlinedFuncNames = %v, %v; want %v (5 or more)", got, err, mainNames)
			}
			if len(all.byName) <= len(main.byName) {
				t.Errorf("whole index %d names, main's %d: it read no fewer units", len(all.byName), len(main.byName))
			}
		})
	}
}
