package proc_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
)

// waiterGoroutine returns the id of the goroutine started in main.waiter.
func waiterGoroutine(t *testing.T, tg *proc.Target, path string) int64 {
	t.Helper()
	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	gs, err := goroutine.List(bi, tg.Process())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		// Since Go 1.22 a go statement with arguments starts a wrapper.
		if fn := bi.PCToFunc(g.StartPC); fn != nil && (fn.Name == "main.waiter" || fn.Name == "main.main.gowrap1") {
			if g.ThreadID != 0 {
				t.Fatalf("goroutine %d runs on thread %d, want it parked", g.ID, g.ThreadID)
			}
			return int64(g.ID)
		}
	}
	t.Fatal("no goroutine started in main.waiter")
	return 0
}

// TestNextParkedGoroutine: waiter is blocked receiving on line 9 while main
// stops in ready; next and step on the selected, parked waiter run the
// program until waiter reaches line 10.
func TestNextParkedGoroutine(t *testing.T) {
	for _, op := range []string{"next", "step"} {
		t.Run(op, func(t *testing.T) {
			path := fixture.Build(t, "parked", fixture.Flavour{})
			tg := launch(t, "parked", fixture.Flavour{})
			mustBreakFunc(t, tg, "main.ready")
			st, err := tg.Continue()
			want(t, "continue", st, err, proc.StopBreakpoint, "main.ready", 16)
			g := waiterGoroutine(t, tg, path)
			if err := tg.SwitchGoroutine(g); err == nil {
				t.Fatalf("SwitchGoroutine(%d) of a parked goroutine succeeded", g)
			}
			if err := tg.SelectGoroutine(g); err != nil {
				t.Fatal(err)
			}
			if tg.SelectedGoroutine() != g {
				t.Fatalf("selected goroutine %d, want %d", tg.SelectedGoroutine(), g)
			}
			if op == "next" {
				st, err = tg.Next()
			} else {
				st, err = tg.Step()
			}
			want(t, op+" on parked goroutine", st, err, proc.StopStepDone, "main.waiter", 10)
			if st.GoroutineID != g || tg.SelectedGoroutine() != g {
				t.Fatalf("%s ended on goroutine %d, want %d", op, st.GoroutineID, g)
			}
			st, err = tg.Next()
			want(t, "next", st, err, proc.StopStepDone, "main.waiter", 11)
			continueToExit(t, tg)
		})
	}
}

// TestRestart: restart keeps breakpoint ids, conditions and locations (a
// PIE loads elsewhere each run, so addresses are resolved again) and
// resets hit counts.
func TestRestart(t *testing.T) {
	for _, fl := range basicFlavours {
		t.Run(fl.Name(), func(t *testing.T) {
			tg := launch(t, "basic", fl, "one")
			add := mustBreakFunc(t, tg, "main.add")
			line, err := tg.SetBreakpointLine("basic/main.go", 35)
			if err != nil {
				t.Fatal(err)
			}
			describe, err := tg.Symbols().LookupFunc("main.describe")
			if err != nil {
				t.Fatal(err)
			}
			// Past the stack check: a breakpoint on the entry itself is
			// hit again when morestack or a preemption runs the first
			// instruction twice.
			pc, err := tg.Symbols().FirstPCAfterPrologue(describe)
			if err != nil {
				t.Fatal(err)
			}
			addr, err := tg.SetBreakpointAddr(pc)
			if err != nil {
				t.Fatal(err)
			}
			st, err := tg.Continue()
			want(t, "continue", st, err, proc.StopBreakpoint, "main.add", 13)
			oldPid := tg.Pid()
			if err := tg.Restart(); err != nil {
				t.Fatalf("restart: %v", err)
			}
			if tg.Pid() == oldPid {
				t.Fatalf("pid %d unchanged by restart", oldPid)
			}
			bps := tg.Breakpoints()
			if len(bps) != 3 || bps[0] != add || bps[1] != line || bps[2] != addr {
				t.Fatalf("breakpoints after restart: %+v", bps)
			}
			if add.TotalHitCount != 0 || len(add.HitCount) != 0 {
				t.Fatalf("main.add hit count %d %v after restart, want 0", add.TotalHitCount, add.HitCount)
			}
			for _, w := range []struct {
				bp   *proc.Breakpoint
				id   int
				fn   string
				line int
			}{{add, 1, "main.add", 13}, {addr, 3, "main.describe", 23}, {line, 2, "main.main", 35}} {
				st, err := tg.Continue()
				want(t, "continue after restart", st, err, proc.StopBreakpoint, w.fn, w.line)
				if st.Breakpoint != w.bp || w.bp.ID != w.id || w.bp.TotalHitCount != 1 {
					t.Fatalf("stop on %+v, want breakpoint %d hit once", st.Breakpoint, w.id)
				}
			}
			continueToExit(t, tg)
			// Restarting an exited target starts it again too.
			if err := tg.Restart(); err != nil {
				t.Fatalf("restart after exit: %v", err)
			}
			st, err = tg.Continue()
			want(t, "continue after second restart", st, err, proc.StopBreakpoint, "main.add", 13)
		})
	}
}

func TestRestartAttached(t *testing.T) {
	_, cmd := startSleeper(t)
	tg, err := proc.Attach(native.Backend{}, cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Detach()
	err = tg.Restart()
	if !errors.Is(err, proc.ErrCannotRestart) || !strings.Contains(err.Error(), "was attached") {
		t.Fatalf("restart of an attached process: %v", err)
	}
	if exited, _ := tg.Exited(); exited {
		t.Fatal("failed restart ended the attached process")
	}
}

// exitSyscall returns the address of the SYSCALL instruction in runtime.exit.
func exitSyscall(t *testing.T, tg *proc.Target) uint64 {
	t.Helper()
	fn, err := tg.Symbols().LookupFunc("runtime.exit")
	if err != nil {
		t.Fatal(err)
	}
	code := make([]byte, fn.End-fn.Entry)
	if _, err := tg.Process().ReadMemory(code, fn.Entry); err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			t.Fatalf("decoding runtime.exit+%d: %v", off, err)
		}
		if inst.Op == x86asm.SYSCALL {
			return fn.Entry + uint64(off)
		}
		off += inst.Len
	}
	t.Fatal("no SYSCALL in runtime.exit")
	return 0
}

// TestExitWhileStepping: the process ends while the debugger single-steps
// over a breakpoint on the exit_group system call (continue, next,
// stepout) and while a next runs over os.Exit; each is an exit stop with
// the status.
func TestExitWhileStepping(t *testing.T) {
	for _, op := range []string{"continue", "next", "stepout", "next over os.Exit"} {
		t.Run(op, func(t *testing.T) {
			tg := launch(t, "inlinedonly", fixture.Flavour{})
			var st proc.Stop
			var err error
			if strings.HasSuffix(op, "os.Exit") {
				if _, err := tg.SetBreakpointLine("inlinedonly/main.go", 23); err != nil {
					t.Fatal(err)
				}
				st, err = tg.Continue()
				want(t, "continue", st, err, proc.StopBreakpoint, "main.main", 23)
			} else {
				if _, err := tg.SetBreakpointAddr(exitSyscall(t, tg)); err != nil {
					t.Fatal(err)
				}
				st, err = tg.Continue()
				if err != nil || st.Reason != proc.StopBreakpoint || st.Function != "runtime.exit" {
					t.Fatalf("continue: %v, %v; want the breakpoint in runtime.exit", st, err)
				}
			}
			switch {
			case strings.HasPrefix(op, "next"):
				st, err = tg.Next()
			case op == "stepout":
				st, err = tg.StepOut()
			default:
				st, err = tg.Continue()
			}
			if err != nil || st.Reason != proc.StopExited || st.ExitCode != 7 {
				t.Fatalf("%s: %v, %v; want exit with status 7", op, st, err)
			}
			if exited, code := tg.Exited(); !exited || code != 7 {
				t.Fatalf("Exited() = %v, %d", exited, code)
			}
			if _, err := tg.Next(); !errors.Is(err, proc.ErrProcessExited) {
				t.Fatalf("next after exit: %v", err)
			}
		})
	}
}

// TestThreadsExitAtBreakpoints: twenty goroutines end locked to their
// threads, so threads exit while others stop at and step over main.hit.
func TestThreadsExitAtBreakpoints(t *testing.T) {
	tg := launch(t, "threadexit", fixture.Flavour{})
	bp := mustBreakFunc(t, tg, "main.hit")
	for {
		st, err := tg.Continue()
		if err != nil {
			t.Fatalf("continue after %d hits: %v", bp.TotalHitCount, err)
		}
		if st.Reason == proc.StopExited {
			if st.ExitCode != 0 {
				t.Fatalf("exit code %d", st.ExitCode)
			}
			break
		}
		want(t, "continue", st, err, proc.StopBreakpoint, "main.hit", 10)
	}
	if bp.TotalHitCount != 20 {
		t.Fatalf("main.hit hit %d times, want 20", bp.TotalHitCount)
	}
}
