package proc_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc"
)

// TestNextStaysOnGoroutine: eight goroutines run main.work concurrently;
// next must follow the goroutine that hit the breakpoint.
func TestNextStaysOnGoroutine(t *testing.T) {
	tg := launch(t, "goroutines", fixture.Flavour{})
	bp := mustBreakFunc(t, tg, "main.work")
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.work", 8)
	g := st.GoroutineID
	if g <= 1 {
		t.Fatalf("main.work hit on goroutine %d, want a worker goroutine", g)
	}
	// Without the user breakpoint no other goroutine can interrupt the nexts;
	// the internal breakpoints on lines 9–12 are still hit by all of them.
	if err := tg.ClearBreakpoint(bp.ID); err != nil {
		t.Fatal(err)
	}
	for _, line := range []int{9, 10, 11, 12} {
		st, err := tg.Next()
		want(t, "next", st, err, proc.StopStepDone, "main.work", line)
		if st.GoroutineID != g || tg.SelectedGoroutine() != g {
			t.Fatalf("next to line %d ended on goroutine %d, want %d", line, st.GoroutineID, g)
		}
	}
	if st := continueToExit(t, tg); st.ExitCode != 0 {
		t.Fatalf("exit code %d", st.ExitCode)
	}
}

// TestHitCounts: every one of the 8×50 calls of main.work is counted once,
// also when several threads trap at once and when a next is interleaved.
func TestHitCounts(t *testing.T) {
	tg := launch(t, "goroutines", fixture.Flavour{})
	bp := mustBreakFunc(t, tg, "main.work")
	stops := 0
	for {
		st, err := tg.Continue()
		if err != nil {
			t.Fatal(err)
		}
		if st.Reason == proc.StopExited {
			if st.ExitCode != 0 {
				t.Fatalf("exit code %d", st.ExitCode)
			}
			break
		}
		want(t, "continue", st, err, proc.StopBreakpoint, "main.work", 8)
		stops++
		if stops == 3 {
			// A next here either finishes on the same goroutine or is
			// interrupted by another goroutine hitting the breakpoint.
			g := st.GoroutineID
			st, err := tg.Next()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case st.Reason == proc.StopStepDone && st.GoroutineID == g && st.Line == 9:
			case st.Reason == proc.StopBreakpoint && st.GoroutineID != g && st.Line == 8:
				// Interrupted, as in Delve: the next stays pending until a
				// continue finishes it or it is cancelled.
				if !tg.NextInProgress() {
					t.Fatalf("next interrupted by goroutine %d is not in progress", st.GoroutineID)
				}
				tg.CancelNext()
				stops++
			default:
				t.Fatalf("next from goroutine %d: %v", g, st)
			}
		}
	}
	var sum uint64
	for _, n := range bp.HitCount {
		sum += n
	}
	if bp.TotalHitCount != 400 || sum != 400 {
		t.Fatalf("hits: total %d, per goroutine %v (sum %d), want 400", bp.TotalHitCount, bp.HitCount, sum)
	}
	if len(bp.HitCount) != 8 {
		t.Fatalf("hits by %d goroutines, want 8: %v", len(bp.HitCount), bp.HitCount)
	}
	for g, n := range bp.HitCount {
		if n != 50 {
			t.Fatalf("goroutine %d hit %d times, want 50", g, n)
		}
	}
	t.Logf("%d stops for %d hits", stops, bp.TotalHitCount)
}

// TestConditionAndHitCount: a false condition is stepped over without
// counting; a hit-count condition stops only on the matching hit.
func TestConditionAndHitCount(t *testing.T) {
	tg := launch(t, "goroutines", fixture.Flavour{})
	bp := mustBreakFunc(t, tg, "main.work")
	var target int64
	calls := 0
	bp.Cond = func(goid int64) (bool, error) {
		calls++
		if target == 0 {
			target = goid
		}
		return goid == target, nil
	}
	bp.HitCond = &proc.HitCondition{Op: "==", N: 50}
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.work", 8)
	if st.GoroutineID != target || bp.TotalHitCount != 50 || bp.HitCount[target] != 50 || len(bp.HitCount) != 1 {
		t.Fatalf("stop on goroutine %d (want %d), total %d, per goroutine %v", st.GoroutineID, target, bp.TotalHitCount, bp.HitCount)
	}
	continueToExit(t, tg)
	if calls != 400 || bp.TotalHitCount != 50 {
		t.Fatalf("condition evaluated %d times (want 400), %d hits counted (want 50)", calls, bp.TotalHitCount)
	}
}
