package proc_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

var optFlavours = []fixture.Flavour{{Optimized: true}, {Optimized: true, PIE: true}}

// TestBreakFuncInlinedOnly: add has no out-of-line copy, only two inlined
// ones (into main at line 20, into twice inlined into main at line 21);
// one logical breakpoint stops at both, on their first statements.
func TestBreakFuncInlinedOnly(t *testing.T) {
	for _, fl := range optFlavours {
		t.Run(fl.Name(), func(t *testing.T) {
			tg := launch(t, "inlinedonly", fl)
			bp := mustBreakFunc(t, tg, "main.add")
			if len(bp.Addrs) != 2 || bp.FuncName != "main.add" || bp.Line != 10 {
				t.Fatalf("breakpoint on main.add: %s:%d at %#x", bp.FuncName, bp.Line, bp.Addrs)
			}
			st, err := tg.Continue()
			want(t, "continue", st, err, proc.StopBreakpoint, "main.add", 10)
			st, err = tg.Continue()
			want(t, "continue", st, err, proc.StopBreakpoint, "main.add", 9)
			if st.PC != bp.Addrs[1] || st.Breakpoint != bp {
				t.Fatalf("second stop at %#x on %v, want %#x", st.PC, st.Breakpoint, bp.Addrs[1])
			}
			if st := continueToExit(t, tg); st.ExitCode != 7 {
				t.Fatalf("exit code %d, want 7", st.ExitCode)
			}
			if bp.TotalHitCount != 2 {
				t.Fatalf("%d hits, want 2", bp.TotalHitCount)
			}
		})
	}
}

// TestBreakFuncInlinedTwice: half is kept out of line and inlined into
// first and second; the function breakpoint covers all three.
func TestBreakFuncInlinedTwice(t *testing.T) {
	tg := launch(t, "inlinedtwice", fixture.Flavour{Optimized: true})
	bp := mustBreakFunc(t, tg, "main.half")
	if len(bp.Addrs) != 3 {
		t.Fatalf("main.half at %#x, want 3 addresses", bp.Addrs)
	}
	var callers []string
	for i := 0; i < 3; i++ {
		st, err := tg.Continue()
		want(t, "continue", st, err, proc.StopBreakpoint, "main.half", 6)
		fn, _ := tg.Symbols().PCToFunc(st.PC)
		callers = append(callers, fn.Name)
	}
	// first(10), second(20), then sink(30) through the out-of-line copy.
	if got := strings.Join(callers, " "); got != "main.first main.second main.half" {
		t.Fatalf("stops in %s", got)
	}
	continueToExit(t, tg)
}

// TestBreakFuncInlinedAway: optimized basic folds add(3, 4) into 7; the
// error says so instead of only "not found".
func TestBreakFuncInlinedAway(t *testing.T) {
	tg := launch(t, "basic", fixture.Flavour{Optimized: true})
	_, err := tg.SetBreakpointFunc("main.add")
	if !errors.Is(err, bininfo.ErrFuncNotFound) || !strings.Contains(err.Error(), "package main is optimized") {
		t.Fatalf("break main.add: %v", err)
	}
	if bp := mustBreakFunc(t, tg, "runtime.goexit"); bp.FuncName != "runtime.goexit" {
		t.Fatalf("break runtime.goexit: %+v", bp)
	}
}

// TestStepOutInlined: stepout of an inlined frame stops at the caller's
// next statement outside the inlined body: main's line 20 (after add,
// once the optimizer's reordering ran twice's body), and from add inlined
// into twice, at twice's line 15.
func TestStepOutInlined(t *testing.T) {
	tg := launch(t, "inlinedonly", fixture.Flavour{Optimized: true})
	bp := mustBreakFunc(t, tg, "main.add")
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.add", 10)
	// The other copy of add runs before main's line 20 resumes; it would
	// interrupt the stepout, as any user breakpoint does.
	if err := tg.ClearBreakpoint(bp.ID); err != nil {
		t.Fatal(err)
	}
	st, err = tg.StepOut()
	want(t, "stepout of add inlined into main", st, err, proc.StopStepDone, "main.main", 20)
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.main", 21)
	st, err = tg.Step()
	want(t, "step into inlined twice", st, err, proc.StopStepDone, "main.twice", 14)
	st, err = tg.Next()
	want(t, "next out of inlined twice", st, err, proc.StopStepDone, "main.main", 22)

	tg = launch(t, "inlinedonly", fixture.Flavour{Optimized: true})
	bp = mustBreakFunc(t, tg, "main.add")
	bp.HitCond = &proc.HitCondition{Op: "==", N: 2}
	st, err = tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.add", 9)
	st, err = tg.StepOut()
	want(t, "stepout of add inlined into twice", st, err, proc.StopStepDone, "main.twice", 15)
	st, err = tg.StepOut()
	want(t, "stepout of twice inlined into main", st, err, proc.StopStepDone, "main.main", 20)
}

// TestStepEntersInlinedCode: step, as Delve 1.27.2's on this binary,
// stops on every other line of the physical function, inlined bodies
// included, in the order the optimizer placed them: from line 23 into
// add inlined at line 20 (its line 10 first), then twice's line 15 before
// main's lines 20 and 21, then add's body inlined into twice.
func TestStepEntersInlinedCode(t *testing.T) {
	tg := launch(t, "inlinedonly", fixture.Flavour{Optimized: true})
	if _, err := tg.SetBreakpointLine("inlinedonly/main.go", 19); err != nil {
		t.Fatal(err)
	}
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.main", 19)
	steps := []struct {
		fn   string
		line int
	}{
		{"main.main", 23}, {"main.add", 10}, {"main.add", 9}, {"main.twice", 15},
		{"main.main", 20}, {"main.main", 21}, {"main.twice", 14},
	}
	for i, w := range steps {
		st, err = tg.Step()
		want(t, fmt.Sprintf("step %d", i+1), st, err, proc.StopStepDone, w.fn, w.line)
	}
}

// TestNextOutOfNestedInline: valid is inlined into setPos, itself inlined
// into expr1 (go/printer's expr1 → setPos → token.Pos.IsValid). A next on
// valid's line stops on setPos's `if` (line 20), the statement the line
// table gives the next instruction, inside setPos's inlined range, before
// expr1's switch (29). Delve 1.27.2 goes from 11 straight to 29: its next
// keeps only the statements of the physical function that are in no
// inlined call other than the current one, so it skips the middle
// function's lines (gofmt's `next` from IsValid: printer.go:886 skipped).
func TestNextOutOfNestedInline(t *testing.T) {
	tg := launch(t, "nestedinline", fixture.Flavour{Optimized: true})
	if _, err := tg.SetBreakpointLine("nestedinline/main.go", 11); err != nil {
		t.Fatal(err)
	}
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.pos.valid", 11)
	st, err = tg.Next()
	want(t, "next out of valid", st, err, proc.StopStepDone, "main.(*printer).setPos", 20)
	// The tables, read apart from the target (a non-PIE build: no bias).
	bi, err := bininfo.Open(fixture.Build(t, "nestedinline", fixture.Flavour{Optimized: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	calls := bi.InlinedCallsAt(st.PC)
	if len(calls) != 1 || calls[0].Func != "main.(*printer).setPos" {
		t.Fatalf("inlined calls at %#x: %+v, want setPos's only", st.PC, calls)
	}
	fn := bi.PCToFunc(st.PC)
	stmts, err := bi.StmtPCs(fn, false)
	if err != nil {
		t.Fatal(err)
	}
	isStmt := false
	for _, s := range stmts {
		isStmt = isStmt || (s.PC == st.PC && s.Line == 20)
	}
	if fn.Name != "main.(*printer).expr1" || !isStmt {
		t.Fatalf("stop %#x in %s: not a line-20 statement of expr1's code", st.PC, fn.Name)
	}
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.(*printer).expr1", 29)
}
