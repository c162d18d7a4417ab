package debugger_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// launchOut starts fixture name with its standard output in a file, read
// back by the returned function once the program ended.
func launchOut(t *testing.T, name string, fl fixture.Flavour) (*debugger.Debugger, func() string) {
	t.Helper()
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, name, fl)
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	d, err := debugger.New(debugger.Config{Path: bin, Stdout: f, Stderr: f})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Detach(true) })
	return d, func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// callCmd injects expr as Delve's client does.
func callCmd(d *debugger.Debugger, expr string, unsafe bool) (*api.DebuggerState, error) {
	return d.Command(api.DebuggerCommand{Name: api.Call, Expr: expr, UnsafeCall: unsafe, ReturnInfoLoadConfig: &svcLoad}, nil)
}

// stopAtCallSite stops fncall in main.stop, where the calls are made.
func stopAtCallSite(t *testing.T, d *debugger.Debugger) {
	t.Helper()
	if _, err := d.CreateBreakpoint(api.Breakpoint{File: fixture.Source("fncall"), Line: 83}, ""); err != nil {
		t.Fatal(err)
	}
	at(t, run(t, d, api.Continue), "main.stop", 83)
}

// frameState is what a call must leave as it was: every general register
// (pkg/proc's TestCallRestoresEveryRegister checks the SSE ones) and the
// arguments of the frame.
func frameState(t *testing.T, d *debugger.Debugger) string {
	t.Helper()
	st, err := d.State(false)
	if err != nil {
		t.Fatal(err)
	}
	regs, err := d.Registers(st.CurrentThread.ID)
	if err != nil {
		t.Fatal(err)
	}
	args, err := d.FunctionArguments(-1, 0, svcLoad)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n", regs)
	for _, a := range args {
		fmt.Fprintf(&b, "%s=%s %v\n", a.Name, a.Value, a.Children)
	}
	return b.String()
}

// TestCallValues: calls of every argument and result shape on the -N -l
// build return exactly what the source computes, the goroutine is left
// with the registers and arguments it had, and the program then prints
// what it would have printed without the calls.
func TestCallValues(t *testing.T) {
	for _, tc := range fixture.Toolchains[:2] {
		t.Run("go"+tc, func(t *testing.T) {
			d, output := launchOut(t, "fncall", fixture.Flavour{Toolchain: tc})
			stopAtCallSite(t, d)
			before := frameState(t, d)
			for _, c := range []struct {
				expr string
				want []string
			}{
				{"add(40, 2)", []string{"~r0: 42"}},
				{"main.add(k, -10)", []string{"~r0: -3"}},
				{"greet(name, 2)", []string{`~r0: "gophergopher!"`}},
				{`greet("ab", 3)`, []string{`~r0: "ababab!"`}},
				{`greet("", 3)`, []string{`~r0: "!"`}},
				{"swap(*p)", []string{"~r0: main.Point {X: 4, Y: 3}", "~r1: true"}},
				{"half(3)", []string{"~r0: 1.5"}},
				{"triple([2]int{5, 6}, name)", []string{"~r0: [3]int [5,6,6]"}},
				{"newPoint(k, 8)", []string{"~r0: *main.Point {X: 7, Y: 8}"}},
				{"p.Sum()", []string{"~r0: 7"}},
				{"s.Area()", []string{"~r0: 10"}},
				{"tally.Inc()", []string{"~r0: 2"}},
				{"tally.Inc()", []string{"~r0: 3"}},
				{"nothing()", []string{}},
				{"op(2, 3)", []string{"~r0: 5"}},
				{"add(add(1, 2), 3)", []string{"~r0: 6"}},
				{`greet(greet("a", 2), 2)`, []string{`~r0: "aa!aa!!"`}},
				{"add(1, 2) + 3", []string{"add(1, 2) + 3: 6"}},
				{"newPoint(k, 8).X", []string{"newPoint(k, 8).X: 7"}},
				{"len(greet(name, 1))", []string{"len(greet(name, 1)): 7"}},
				{"main.offset(1)", []string{"~r0: 101"}},
				{"k", []string{"k: 7"}},
				{"len(name)", []string{"len(name): 6"}},
			} {
				st, err := callCmd(d, c.expr, false)
				if err != nil {
					t.Fatalf("call %s: %v", c.expr, err)
				}
				at(t, st, "main.stop", 83)
				if !st.CurrentThread.CallReturn {
					t.Errorf("call %s: CallReturn not set", c.expr)
				}
				wantCallReturned(t, "call "+c.expr, st, c.want)
				if after := frameState(t, d); after != before {
					t.Fatalf("after call %s the frame changed:\n%s\nwant\n%s", c.expr, after, before)
				}
			}
			st := run(t, d, api.Continue)
			if !st.Exited {
				t.Fatalf("continue: %+v", st.CurrentThread)
			}
			if got, want := output(), "2 3 a! 0.5 0 0\nstop 3 10 gopher 7\nafter 3 10\ndone 3 4\n"; got != want {
				t.Fatalf("program output %q, want %q", got, want)
			}
		})
	}
}

// wantCallReturned asserts the results of a call as the renderer prints
// them on one line.
func wantCallReturned(t *testing.T, what string, st *api.DebuggerState, want []string) {
	t.Helper()
	rv := st.CurrentThread.ReturnValues
	got := []string{}
	for i := range rv {
		got = append(got, rv[i].Name+": "+rv[i].SinglelineString())
	}
	if rv == nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("%s: returned %q, want %q", what, got, want)
	}
}

// TestCallErrors: calls Delve refuses are refused with its one-line
// errors, before anything runs: the frame is as it was.
func TestCallErrors(t *testing.T) {
	d, _ := launchOut(t, "fncall", fixture.Flavour{})
	stopAtCallSite(t, d)
	before := frameState(t, d)
	for _, c := range []struct{ expr, want string }{
		{"add(1)", "not enough arguments"},
		{"nothing() + 1", "no return values"},
		{"swap(*p).X", "multiple-value swap(*p) (value of 2 results) in single-value context"},
		{"add(add(1), 2)", "not enough arguments"},
		{"add(1, 2, 3)", "too many arguments"},
		{"add(name, 1)", "can not convert value of type string to int"},
		{`add("a", 1)`, `can not convert "a" constant to int`},
		{"add(nil, 1)", "mismatched types nil and int"},
		{"k(1)", `expression "k" is not a function`},
		{"p.Nope()", "type *main.Point has no method Nope"},
		{"p.Scale(2)", "could not set call receiver: cannot use p.Scale as argument p in function main.(*Point).Scale: stack object passed to escaping pointer: p"},
	} {
		_, err := callCmd(d, c.expr, false)
		if err == nil || err.Error() != c.want {
			t.Errorf("call %s: error %v, want %q", c.expr, err, c.want)
		}
	}
	// The ticker goroutine waits on a channel.
	gs, _, err := d.Goroutines(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var parked int64
	for _, g := range gs {
		if g.StartLoc.Function.Name() == "main.ticker" && g.ThreadID == 0 {
			parked = g.ID
		}
	}
	_, err = d.Command(api.DebuggerCommand{Name: api.Call, Expr: "add(1, 2)", GoroutineID: parked, ReturnInfoLoadConfig: &svcLoad}, nil)
	if parked == 0 || err == nil || err.Error() != "selected goroutine not running" {
		t.Errorf("call on parked goroutine %d: error %v", parked, err)
	}
	_, err = d.Command(api.DebuggerCommand{Name: api.Call, Expr: "add(1, 2)"}, nil)
	if err == nil || err.Error() != "can not call function with nil ReturnInfoLoadConfig" {
		t.Errorf("call without ReturnInfoLoadConfig: error %v", err)
	}
	if after := frameState(t, d); after != before {
		t.Fatalf("after refused calls the frame changed:\n%s\nwant\n%s", after, before)
	}
}

// TestCallPanicAndEffects: a panicking function is reported as Delve does
// (its panic value as the one result, ~panic), and calls with effects on
// the program have them: bump's increment and, with -unsafe, Scale on the
// stack object p show in what the program prints afterwards.
func TestCallPanicAndEffects(t *testing.T) {
	d, output := launchOut(t, "fncall", fixture.Flavour{})
	stopAtCallSite(t, d)
	before := frameState(t, d)
	for _, c := range []struct {
		expr   string
		unsafe bool
		want   []string
	}{
		{"boom(name)", false, []string{`~panic: interface {}(string) "boom: gopher"`}},
		{"bump()", false, []string{"~r0: 11"}},
		{"p.Scale(2)", true, []string{"~r0: 14"}},
	} {
		st, err := callCmd(d, c.expr, c.unsafe)
		if err != nil {
			t.Fatalf("call %s: %v", c.expr, err)
		}
		at(t, st, "main.stop", 83)
		wantCallReturned(t, "call "+c.expr, st, c.want)
	}
	// Scale changed *p; the registers are as they were.
	after := frameState(t, d)
	if a, b := strings.SplitN(after, "\n", 2)[0], strings.SplitN(before, "\n", 2)[0]; a != b {
		t.Fatalf("after the calls the registers changed:\n%s\nwant\n%s", a, b)
	}
	if st := run(t, d, api.Continue); !st.Exited {
		t.Fatalf("continue: %+v", st.CurrentThread)
	}
	if got, want := output(), "2 3 a! 0.5 0 0\nstop 6 10 gopher 7\nafter 6 11\ndone 6 8\n"; got != want {
		t.Fatalf("program output %q, want %q", got, want)
	}
}

// TestCallOptimized: as Delve, functions of an optimized build are not
// called: DWARF does not say enough about their arguments.
func TestCallOptimized(t *testing.T) {
	for _, tc := range fixture.Toolchains[:2] {
		t.Run("go"+tc, func(t *testing.T) {
			d, _ := launchOut(t, "fncall", fixture.Flavour{Optimized: true, Toolchain: tc})
			if _, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.stop"}, ""); err != nil {
				t.Fatal(err)
			}
			run(t, d, api.Continue)
			_, err := callCmd(d, "main.add(1, 2)", false)
			if err == nil || err.Error() != "can not call optimized function main.add when regabi is in use" {
				t.Fatalf("call main.add(1, 2): error %v", err)
			}
		})
	}
}

// TestCallInRuntime: stopped in the runtime (mallocgc, called by
// fmt.Println on the main goroutine), the runtime refuses the call with its
// own reason, which is the error; the goroutine stays where it was and the
// program goes on as without the call, as with Delve.
func TestCallInRuntime(t *testing.T) {
	d, output := launchOut(t, "fncall", fixture.Flavour{})
	stopAtCallSite(t, d)
	bp, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "runtime.mallocgc"}, "")
	if err != nil {
		t.Fatal(err)
	}
	// Runtime goroutines allocate too: on to the main goroutine's stop.
	st := run(t, d, api.Continue)
	for i := 0; i < 50 && st.CurrentThread.GoroutineID != 1; i++ {
		st = run(t, d, api.Continue)
	}
	if st.CurrentThread.Function.Name() != "runtime.mallocgc" || st.CurrentThread.GoroutineID != 1 {
		t.Fatalf("stopped in %s on goroutine %d", st.CurrentThread.Function.Name(), st.CurrentThread.GoroutineID)
	}
	// Cleared first: another goroutine allocating during the call would
	// stop it there.
	if _, err := d.ClearBreakpoint(bp.ID, ""); err != nil {
		t.Fatal(err)
	}
	before := frameState(t, d)
	_, err = callCmd(d, "main.add(1, 2)", false)
	if err == nil || err.Error() != "call from within the Go runtime" {
		t.Fatalf("call in runtime.mallocgc: error %v", err)
	}
	if after := frameState(t, d); after != before {
		t.Fatalf("after the refused call the frame changed:\n%s\nwant\n%s", after, before)
	}
	if st := run(t, d, api.Continue); !st.Exited {
		t.Fatalf("continue: %+v", st.CurrentThread)
	}
	if got, want := output(), "2 3 a! 0.5 0 0\nstop 3 10 gopher 7\nafter 3 10\ndone 3 4\n"; got != want {
		t.Fatalf("program output %q, want %q", got, want)
	}
}

// TestCallInterruptedByBreakpoint: a breakpoint the called function hits
// stops the program there (on the goroutine the runtime runs the call on),
// as in Delve; another call is refused meanwhile, and continue finishes
// the call: the goroutine is back with the results.
func TestCallInterruptedByBreakpoint(t *testing.T) {
	d, output := launchOut(t, "fncall", fixture.Flavour{})
	stopAtCallSite(t, d)
	before := frameState(t, d)
	if _, err := d.CreateBreakpoint(api.Breakpoint{File: fixture.Source("fncall"), Line: 50}, ""); err != nil {
		t.Fatal(err)
	}
	st, err := callCmd(d, "add(40, 2)", false)
	if err != nil {
		t.Fatal(err)
	}
	at(t, st, "main.add", 50)
	if st.CurrentThread.CallReturn || st.CurrentThread.Breakpoint == nil {
		t.Fatalf("stop in add: %+v", st.CurrentThread)
	}
	if _, err := callCmd(d, "add(1, 2)", false); err == nil || err.Error() != "cannot call function while another function call is already in progress" {
		t.Fatalf("second call: error %v", err)
	}
	st = run(t, d, api.Continue)
	at(t, st, "main.stop", 83)
	wantCallReturned(t, "continue finishing add(40, 2)", st, []string{"~r0: 42"})
	endUnchanged(t, d, before, output)
}

// TestCallInnerCallBreakpoint: a breakpoint hit by a call inside the
// expression is the call command's stop, as in Delve, not an error; the
// goroutine list is that stop's. Each continue goes on with the
// expression: the inner add(1, 2) returns and the outer add(3, 3) hits
// the breakpoint again; the next continue ends the expression with 6.
func TestCallInnerCallBreakpoint(t *testing.T) {
	d, output := launchOut(t, "fncall", fixture.Flavour{})
	stopAtCallSite(t, d)
	before := frameState(t, d)
	if _, err := d.CreateBreakpoint(api.Breakpoint{File: fixture.Source("fncall"), Line: 50}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ListGoroutines(0, 100, nil, api.GoroutineGroupingOptions{}); err != nil {
		t.Fatal(err) // read at this stop, to be read again after the call
	}
	st, err := callCmd(d, "add(add(1, 2), 3)", false)
	if err != nil {
		t.Fatalf("call stopped by a breakpoint in an inner call: %v", err)
	}
	at(t, st, "main.add", 50)
	if st.CurrentThread.CallReturn || st.CurrentThread.Breakpoint == nil || st.StopReason != "breakpoint" {
		t.Fatalf("stop in the inner add: %+v reason %q", st.CurrentThread, st.StopReason)
	}
	gl, err := d.ListGoroutines(0, 100, nil, api.GoroutineGroupingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inAdd := 0
	for _, g := range gl.Goroutines {
		if g.CurrentLoc.Function.Name() == "main.add" && g.CurrentLoc.Line == 50 && g.ID == st.CurrentThread.GoroutineID {
			inAdd++
		}
	}
	if inAdd != 1 {
		t.Fatalf("goroutine %d is not listed in main.add:50 after the call stopped there", st.CurrentThread.GoroutineID)
	}
	if _, err := callCmd(d, "add(1, 2)", false); err == nil || err.Error() != "cannot call function while another function call is already in progress" {
		t.Fatalf("second call: error %v", err)
	}
	st = run(t, d, api.Continue)
	at(t, st, "main.add", 50)
	if st.CurrentThread.CallReturn || st.CurrentThread.Breakpoint == nil {
		t.Fatalf("stop in the outer add: %+v", st.CurrentThread)
	}
	st = run(t, d, api.Continue)
	at(t, st, "main.stop", 83)
	wantCallReturned(t, "continue finishing add(add(1, 2), 3)", st, []string{"~r0: 6"})
	endUnchanged(t, d, before, output)
}

// TestCallOtherGoroutineBreakpoint: waitTick blocks until the ticker
// goroutine has run tick, which has a breakpoint: the call stops there, on
// the other goroutine, as in Delve; the first continue finishes the call
// with its result, the second runs the program to its end.
func TestCallOtherGoroutineBreakpoint(t *testing.T) {
	d, output := launchOut(t, "fncall", fixture.Flavour{})
	stopAtCallSite(t, d)
	before := frameState(t, d)
	if _, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.tick"}, ""); err != nil {
		t.Fatal(err)
	}
	st, err := callCmd(d, "waitTick()", false)
	if err != nil {
		t.Fatal(err)
	}
	at(t, st, "main.tick", 124)
	if st.CurrentThread.GoroutineID == 1 || st.CurrentThread.CallReturn {
		t.Fatalf("stop in tick: %+v", st.CurrentThread)
	}
	st = run(t, d, api.Continue)
	at(t, st, "main.stop", 83)
	if st.CurrentThread.GoroutineID != 1 {
		t.Fatalf("call finished on goroutine %d", st.CurrentThread.GoroutineID)
	}
	wantCallReturned(t, "continue finishing waitTick()", st, []string{"~r0: 1"})
	endUnchanged(t, d, before, output)
}

// endUnchanged asserts that the frame is as before the calls and that the
// program, continued, prints what it prints without them.
func endUnchanged(t *testing.T, d *debugger.Debugger, before string, output func() string) {
	t.Helper()
	if after := frameState(t, d); after != before {
		t.Fatalf("after the call the frame changed:\n%s\nwant\n%s", after, before)
	}
	if st := run(t, d, api.Continue); !st.Exited {
		t.Fatalf("continue: %+v", st.CurrentThread)
	}
	if got, want := output(), "2 3 a! 0.5 0 0\nstop 3 10 gopher 7\nafter 3 10\ndone 3 4\n"; got != want {
		t.Fatalf("program output %q, want %q", got, want)
	}
}

// TestCallInnerCallHalted: spin loops until spinning is cleared, so a call
// of it ends only after a halt. The halt reaches the call, inside the
// expression add(spin(), 1) or the command's own spin(), and is the
// command's stop, as in Delve, with spin still running on the call's
// goroutine and the call in progress; once spinning is cleared, continue
// goes on with the expression: add(7, 1) is 8, spin() 7.
func TestCallInnerCallHalted(t *testing.T) {
	d, output := launchOut(t, "fncall", fixture.Flavour{})
	stopAtCallSite(t, d)
	before := frameState(t, d)
	spinning := func() int { return goroutinesIn(t, d, "main.spin") }
	for _, tc := range []struct{ expr, want string }{{"add(spin(), 1)", "~r0: 8"}, {"spin()", "~r0: 7"}} {
		if err := d.Set(-1, 0, "main.spinning", "true"); err != nil {
			t.Fatal(err)
		}
		haltDuring(t, d, 0, func() (*api.DebuggerState, error) { return callCmd(d, tc.expr, false) })
		// A halt may come before the call reached spin: continue, and
		// halt a little later, until it stops there; it cannot end
		// before spinning is cleared.
		for i := 0; i < 100 && spinning() == 0; i++ {
			haltDuring(t, d, 10*time.Millisecond, func() (*api.DebuggerState, error) {
				return d.Command(api.DebuggerCommand{Name: api.Continue}, nil)
			})
		}
		if n := spinning(); n != 1 {
			t.Fatalf("%s: %d goroutines in main.spin at the halt, want 1", tc.expr, n)
		}
		if _, err := callCmd(d, "add(1, 2)", false); err == nil || err.Error() != "cannot call function while another function call is already in progress" {
			t.Fatalf("%s: second call: error %v", tc.expr, err)
		}
		if err := d.Set(-1, 0, "main.spinning", "false"); err != nil {
			t.Fatal(err)
		}
		st := run(t, d, api.Continue)
		at(t, st, "main.stop", 83)
		wantCallReturned(t, "continue finishing "+tc.expr, st, []string{tc.want})
	}
	endUnchanged(t, d, before, output)
}

// haltDuring runs cmd and halts the target once cmd has run it for at
// least after; the halt must be cmd's stop.
func haltDuring(t *testing.T, d *debugger.Debugger, after time.Duration, cmd func() (*api.DebuggerState, error)) *api.DebuggerState {
	t.Helper()
	halted := make(chan struct{})
	go func() {
		defer close(halted)
		for !d.IsRunning() {
			runtime.Gosched()
		}
		time.Sleep(after)
		d.Halt()
	}()
	st, err := cmd()
	<-halted
	if err != nil {
		t.Fatalf("halted command: %v", err)
	}
	if st.Exited || st.StopReason != "manual" || st.CurrentThread.CallReturn {
		t.Fatalf("halted command: reason %q, exited %v, thread %+v", st.StopReason, st.Exited, st.CurrentThread)
	}
	return st
}

// TestCallHaltAtResumed: a server reads the client's next request once
// the call command closes resumed, so a halt sent at once must find the
// target running, with no inner call (spin()) as with one (add(spin(), 1)),
// and be the command's stop; before, the call command closed resumed
// before it marked the target running, and such a halt was lost.
func TestCallHaltAtResumed(t *testing.T) {
	d, output := launchOut(t, "fncall", fixture.Flavour{})
	stopAtCallSite(t, d)
	before := frameState(t, d)
	for _, tc := range []struct{ expr, want string }{{"spin()", "~r0: 7"}, {"add(spin(), 1)", "~r0: 8"}} {
		if err := d.Set(-1, 0, "main.spinning", "true"); err != nil {
			t.Fatal(err)
		}
		resumed := make(chan struct{})
		runningAtResumed := make(chan bool, 1)
		go func() {
			<-resumed
			runningAtResumed <- d.IsRunning()
			// Halted however late, so that a failure is one, not a hang.
			for !d.IsRunning() {
				runtime.Gosched()
			}
			d.Halt()
		}()
		st, err := d.Command(api.DebuggerCommand{Name: api.Call, Expr: tc.expr, ReturnInfoLoadConfig: &svcLoad}, resumed)
		if running := <-runningAtResumed; !running {
			t.Fatalf("%s: the target was not marked running when resumed was closed", tc.expr)
		}
		if err != nil || st.Exited || st.StopReason != "manual" || st.CurrentThread.CallReturn {
			t.Fatalf("%s halted at once: error %v, state %+v", tc.expr, err, st)
		}
		if err := d.Set(-1, 0, "main.spinning", "false"); err != nil {
			t.Fatal(err)
		}
		st = run(t, d, api.Continue)
		at(t, st, "main.stop", 83)
		wantCallReturned(t, "continue finishing "+tc.expr, st, []string{tc.want})
	}
	endUnchanged(t, d, before, output)
}
