package debugger_test

import (
	"reflect"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/service/api"
)

// targetKeepsNext reports whether proc.Target can keep a next that another
// goroutine's breakpoint interrupted (NextInProgress and CancelNext).
func targetKeepsNext() bool {
	tt := reflect.TypeOf(&proc.Target{})
	_, a := tt.MethodByName("NextInProgress")
	_, b := tt.MethodByName("CancelNext")
	return a && b
}

// TestNextInterrupted runs a next over main's time.Sleep while the spin
// goroutine hits a breakpoint in main.tick. With Delve's semantics the
// next stays in progress: another next is refused with Delve's "next while
// nexting", continue finishes it on main.go:57 and CancelNext drops it.
// Until proc keeps stepping breakpoints across such a stop, the next is
// cancelled by the breakpoint, which the test asserts instead.
func TestNextInterrupted(t *testing.T) {
	for _, finish := range []string{"continue", "cancel"} {
		t.Run(finish, func(t *testing.T) {
			d := launch(t, "svcgoroutines", fixture.Flavour{})
			if _, err := d.CreateBreakpoint(api.Breakpoint{}, "main.go:56"); err != nil {
				t.Fatal(err)
			}
			at(t, run(t, d, api.Continue), "main.main", 56)
			tick, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.tick"}, "")
			if err != nil {
				t.Fatal(err)
			}
			st := run(t, d, api.Next)
			at(t, st, "main.tick", 38)
			if st.StopReason != "breakpoint" || st.SelectedGoroutine.ID == 1 {
				t.Fatalf("next interrupted: reason %q goroutine %+v", st.StopReason, st.SelectedGoroutine)
			}
			if _, err := d.ClearBreakpoint(tick.ID, ""); err != nil {
				t.Fatal(err)
			}
			if !targetKeepsNext() {
				if st.NextInProgress {
					t.Fatal("NextInProgress set by a target that cancels interrupted nexts")
				}
				if err := d.CancelNext(); err != nil {
					t.Fatal(err)
				}
				// The next is gone: continue stops at no line of main.
				st = run(t, d, api.Continue)
				if !st.Exited || st.ExitStatus != 0 {
					t.Fatalf("continue after a cancelled next: %+v", st)
				}
				return
			}
			if !st.NextInProgress {
				t.Fatal("NextInProgress not set after a next interrupted by another goroutine")
			}
			if _, err := d.Command(api.DebuggerCommand{Name: api.Next}, nil); err == nil || err.Error() != "next while nexting" {
				t.Fatalf("next during a next: %v", err)
			}
			if s, err := d.State(false); err != nil || !s.NextInProgress {
				t.Fatalf("state: %+v %v", s, err)
			}
			if finish == "cancel" {
				if err := d.CancelNext(); err != nil {
					t.Fatal(err)
				}
				if s, err := d.State(false); err != nil || s.NextInProgress {
					t.Fatalf("state after CancelNext: %+v %v", s, err)
				}
				st = run(t, d, api.Continue)
				if !st.Exited || st.ExitStatus != 0 {
					t.Fatalf("continue after CancelNext: %+v", st)
				}
				return
			}
			st = run(t, d, api.Continue)
			at(t, st, "main.main", 57)
			if st.StopReason != "next finished" || st.NextInProgress || st.SelectedGoroutine.ID != 1 {
				t.Fatalf("continue finishing the next: reason %q in progress %v goroutine %+v", st.StopReason, st.NextInProgress, st.SelectedGoroutine)
			}
		})
	}
}
