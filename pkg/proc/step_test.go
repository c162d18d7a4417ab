package proc_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc"
)

// TestNextRecursion: next inside fact(n) ignores the deeper fact frames the
// recursive call creates, and stepout returns to the right frame.
func TestNextRecursion(t *testing.T) {
	tg := launch(t, "recursion", fixture.Flavour{})
	bp := mustBreakFunc(t, tg, "main.fact")
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.fact", 5) // fact(5)
	if err := tg.ClearBreakpoint(bp.ID); err != nil {
		t.Fatal(err)
	}
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.fact", 6)
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.fact", 9)
	// fact(4)…fact(1) all run lines 6–9; next must come back to fact(5)'s
	// frame only when it returns, in main.main.
	st, err = tg.Next()
	want(t, "next over recursive call", st, err, proc.StopStepDone, "main.main", 13)
	continueToExit(t, tg)
}

// TestStepOutRecursion: stepout from the innermost fact returns into the
// fact frame that called it, at the call line.
func TestStepOutRecursion(t *testing.T) {
	tg := launch(t, "recursion", fixture.Flavour{})
	bp := mustBreakFunc(t, tg, "main.fact")
	bp.HitCond = &proc.HitCondition{Op: "==", N: 5} // fact(1)
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.fact", 5)
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.fact", 6)
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.fact", 7)
	st, err = tg.StepOut()
	want(t, "stepout", st, err, proc.StopStepDone, "main.fact", 9)
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.fact", 9)
}

// TestStepDefers: over `return x` of a function with two deferred calls,
// step enters the deferred functions in LIFO order and next (as in Delve)
// runs them and stops in the caller.
func TestStepDefers(t *testing.T) {
	for _, into := range []bool{false, true} {
		name := "next"
		if into {
			name = "step"
		}
		t.Run(name, func(t *testing.T) {
			tg := launch(t, "defers", fixture.Flavour{})
			if _, err := tg.SetBreakpointLine("defers/main.go", 16); err != nil {
				t.Fatal(err)
			}
			st, err := tg.Continue()
			want(t, "continue", st, err, proc.StopBreakpoint, "main.run", 16)
			if into {
				st, err = tg.Step()
			} else {
				st, err = tg.Next()
			}
			// The deferreturn call is on the closing brace, as in Delve.
			want(t, "over return", st, err, proc.StopStepDone, "main.run", 17)
			if !into {
				st, err = tg.Next()
				want(t, "next over deferreturn", st, err, proc.StopStepDone, "main.main", 20)
				return
			}
			// Entering a deferred call stops at its prologue_end, on
			// the func line, as a step into any call does.
			st, err = tg.Step()
			want(t, "step into deferreturn", st, err, proc.StopStepDone, "main.cleanup", 7)
			st, err = tg.Next()
			want(t, "next in last-deferred call", st, err, proc.StopStepDone, "main.cleanup", 8)
			st, err = tg.Next()
			want(t, "next in last-deferred call", st, err, proc.StopStepDone, "main.cleanup", 9)
			st, err = tg.Step()
			want(t, "step to first-deferred call", st, err, proc.StopStepDone, "main.cleanup", 7)
			// As in Delve, the deferring function resumes where its
			// deferreturn call returns (a row of line 16).
			st, err = tg.StepOut()
			want(t, "stepout of first-deferred call", st, err, proc.StopStepDone, "main.run", 16)
			st, err = tg.Next()
			want(t, "next", st, err, proc.StopStepDone, "main.run", 17)
			st, err = tg.Next()
			want(t, "next out of run", st, err, proc.StopStepDone, "main.main", 20)
		})
	}
}

// TestStepIntoDeferredCalls: step over the deferreturn call of a return
// enters the deferred call, whether the compiler calls it through a
// deferwrap closure (parseStmt's `defer decNestLev(incNestLev(p))`, as
// in go/parser) or runtime.deferreturn calls it itself (direct's `defer
// tick()`, a function without arguments). Delve 1.27.2 enters tick on
// every toolchain (its own TestStepDeferReturn asks that), but not
// decNestLev: its breakpoint on the deferred function requires the frame
// below it to be runtime.deferreturn, which is the deferwrap here (see
// compat TestDelveStepIntoDeferredCall).
func TestStepIntoDeferredCalls(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		t.Run("go"+tc, func(t *testing.T) {
			tg := launch(t, "deferstep", fixture.Flavour{Toolchain: tc})
			for _, line := range []int{29, 36} {
				if _, err := tg.SetBreakpointLine("deferstep/main.go", line); err != nil {
					t.Fatal(err)
				}
			}
			st, err := tg.Continue()
			want(t, "continue", st, err, proc.StopBreakpoint, "main.parseStmt", 29)
			// next goes to the line of the deferreturn call: the return
			// (go1.22, go1.24) or the closing brace (go1.26).
			st, err = tg.Next()
			if err != nil || st.Function != "main.parseStmt" {
				t.Fatalf("next: %v, %v", st, err)
			}
			st, err = tg.Step()
			want(t, "step over the deferreturn", st, err, proc.StopStepDone, "main.decNestLev", 16)

			st, err = tg.Continue() // parseStmt's second call
			want(t, "continue", st, err, proc.StopBreakpoint, "main.parseStmt", 29)
			st, err = tg.Continue()
			want(t, "continue", st, err, proc.StopBreakpoint, "main.direct", 36)
			st, err = tg.Next()
			if err != nil || st.Function != "main.direct" {
				t.Fatalf("next: %v, %v", st, err)
			}
			st, err = tg.Step()
			want(t, "step over the deferreturn", st, err, proc.StopStepDone, "main.tick", 23)
			st, err = tg.Next()
			want(t, "next in the deferred call", st, err, proc.StopStepDone, "main.tick", 24)
			st, err = tg.Step()
			want(t, "step out of the deferred call", st, err, proc.StopStepDone, "main.direct", 37)
		})
	}
}

// TestNextRecoveredPanic: next over a call that panics stops in the
// deferred closure that recovers; stepping on leaves it to the caller of the
// recovering function.
func TestNextRecoveredPanic(t *testing.T) {
	tg := launch(t, "panics", fixture.Flavour{})
	bp := mustBreakFunc(t, tg, "main.safe")
	bp.HitCond = &proc.HitCondition{Op: "==", N: 4} // safe(3) panics
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.safe", 14)
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.safe", 15)
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.safe", 20)
	// The closure is entered at its prologue_end, on its func line (15).
	st, err = tg.Next()
	want(t, "next over panicking call", st, err, proc.StopStepDone, "main.safe.func1", 15)
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.safe.func1", 16)
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.safe.func1", 17)
	st, err = tg.StepOut()
	want(t, "stepout of recovering closure", st, err, proc.StopStepDone, "main.main", 26)
	continueToExit(t, tg)
}

// TestInlinedLineBreakpoint: in an optimized build square is inlined into
// sumSquares (itself inlined into main); one logical breakpoint covers the
// inlined copies and stops ten times, once per loop iteration.
func TestInlinedLineBreakpoint(t *testing.T) {
	tg := launch(t, "inlining", fixture.Flavour{Optimized: true})
	bp, err := tg.SetBreakpointLine("inlining/main.go", 6)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("line 6 at %#x", bp.Addrs)
	if bp.FuncName != "main.square" {
		t.Fatalf("breakpoint function %q, want main.square", bp.FuncName)
	}
	for i := 1; i <= 10; i++ {
		st, err := tg.Continue()
		want(t, "continue", st, err, proc.StopBreakpoint, "main.square", 6)
	}
	continueToExit(t, tg)
	if bp.TotalHitCount != 10 {
		t.Fatalf("%d hits, want 10", bp.TotalHitCount)
	}
}

// TestLineBreakpointSeveralCopies: half is inlined into first and second
// and also kept out of line; one logical breakpoint on its body has three
// addresses and is hit once through each.
func TestLineBreakpointSeveralCopies(t *testing.T) {
	tg := launch(t, "inlinedtwice", fixture.Flavour{Optimized: true})
	bp, err := tg.SetBreakpointLine("inlinedtwice/main.go", 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(bp.Addrs) != 3 {
		t.Fatalf("line 6 at %#x, want 3 addresses", bp.Addrs)
	}
	seen := map[uint64]bool{}
	for i := 0; i < 3; i++ {
		st, err := tg.Continue()
		want(t, "continue", st, err, proc.StopBreakpoint, "main.half", 6)
		seen[st.PC] = true
	}
	if len(seen) != 3 {
		t.Fatalf("stopped at %v, want each of %#x once", seen, bp.Addrs)
	}
	continueToExit(t, tg)
	if bp.TotalHitCount != 3 || bp.ID != 1 {
		t.Fatalf("breakpoint %d hit %d times, want 3", bp.ID, bp.TotalHitCount)
	}
}
