package proc_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
)

// launch builds and starts a fixture, killing it when the test ends.
func launch(t *testing.T, name string, fl fixture.Flavour, args ...string) *proc.Target {
	t.Helper()
	testenv.RequirePtrace(t)
	path := fixture.Build(t, name, fl)
	tg, err := proc.Launch(native.Backend{}, path, args, proc.LaunchConfig{})
	if err != nil {
		t.Fatalf("launch %s: %v", name, err)
	}
	t.Cleanup(func() { _ = tg.Kill() })
	return tg
}

// want asserts that a stop is of the given reason at function fn, line.
func want(t *testing.T, what string, st proc.Stop, err error, reason proc.StopReason, fn string, line int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if st.Reason != reason || st.Function != fn || st.Line != line {
		t.Fatalf("%s: got %v, want %v in %s at line %d", what, st, reason, fn, line)
	}
}

func mustBreakFunc(t *testing.T, tg *proc.Target, name string) *proc.Breakpoint {
	t.Helper()
	bp, err := tg.SetBreakpointFunc(name)
	if err != nil {
		t.Fatalf("break %s: %v", name, err)
	}
	return bp
}

func continueToExit(t *testing.T, tg *proc.Target) proc.Stop {
	t.Helper()
	st, err := tg.Continue()
	if err != nil {
		t.Fatalf("continue: %v", err)
	}
	if st.Reason != proc.StopExited {
		t.Fatalf("continue: got %v, want exit", st)
	}
	return st
}

var basicFlavours = []fixture.Flavour{{}, {PIE: true}}

func TestBasicBreakNextStepOut(t *testing.T) {
	for _, fl := range basicFlavours {
		t.Run(fl.Name(), func(t *testing.T) {
			tg := launch(t, "basic", fl)
			bp := mustBreakFunc(t, tg, "main.add")
			if bp.ID != 1 || bp.Line != 13 || bp.FuncName != "main.add" || filepath.Base(bp.File) != "main.go" {
				t.Fatalf("breakpoint: got id %d %s %s:%d", bp.ID, bp.FuncName, bp.File, bp.Line)
			}
			st, err := tg.Continue()
			// At prologue_end, on the func line, as in Delve.
			want(t, "continue", st, err, proc.StopBreakpoint, "main.add", 13)
			if st.Breakpoint != bp || bp.TotalHitCount != 1 || st.GoroutineID != 1 || bp.HitCount[1] != 1 {
				t.Fatalf("hit: bp %v, total %d, per-g %v, goroutine %d", st.Breakpoint, bp.TotalHitCount, bp.HitCount, st.GoroutineID)
			}
			st, err = tg.Next()
			want(t, "next", st, err, proc.StopStepDone, "main.add", 14)
			st, err = tg.Next()
			want(t, "next", st, err, proc.StopStepDone, "main.add", 15)
			st, err = tg.StepOut()
			want(t, "stepout", st, err, proc.StopStepDone, "main.main", 32)
			st, err = tg.Next()
			want(t, "next", st, err, proc.StopStepDone, "main.main", 33)
			st, err = tg.Step()
			want(t, "step", st, err, proc.StopStepDone, "main.(*Point).Scale", 18)

			bp2, err := tg.SetBreakpointLine("basic/main.go", 35)
			if err != nil {
				t.Fatal(err)
			}
			if bp2.ID != 2 || bp2.Line != 35 || bp2.FuncName != "main.main" {
				t.Fatalf("line breakpoint: %+v", bp2)
			}
			st, err = tg.Continue()
			want(t, "continue", st, err, proc.StopBreakpoint, "main.main", 35)
			if st.Breakpoint != bp2 {
				t.Fatalf("stopped on breakpoint %v, want 2", st.Breakpoint)
			}
			if st := continueToExit(t, tg); st.ExitCode != 0 {
				t.Fatalf("exit code %d", st.ExitCode)
			}
			if bp.TotalHitCount != 1 {
				t.Fatalf("main.add hit %d times", bp.TotalHitCount)
			}
		})
	}
}

func TestBreakpointErrors(t *testing.T) {
	tg := launch(t, "basic", fixture.Flavour{})
	_, err := tg.SetBreakpointFunc("main.ad")
	if err == nil || !strings.Contains(err.Error(), "main.add") {
		t.Fatalf("break main.ad: got %v, want an error suggesting main.add", err)
	}
	_, err = tg.SetBreakpointLine("basic/main.go", 27)
	if err == nil {
		t.Fatal("break on blank line 27 succeeded")
	}
	t.Logf("line error: %v", err)
	first, err := tg.SetBreakpointFunc("main.add")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Breakpoint exists at %s:%d at %x", first.File, first.Line, first.Addrs[0])
	var exists *proc.BreakpointExistsError
	if _, err := tg.SetBreakpointFunc("main.add"); !errors.As(err, &exists) || err.Error() != want {
		t.Fatalf("duplicate breakpoint: got %v, want %q", err, want)
	}
}
