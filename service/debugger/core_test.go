package debugger_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/corefile"
	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

func openCore(t *testing.T, bin, path string) *debugger.Debugger {
	t.Helper()
	d, err := debugger.New(debugger.Config{Path: bin, CoreFile: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Detach(true) })
	return d
}

// stackText renders a goroutine's stack as "function:line" lines, the
// line only for the fixture's own code (runtime lines move between Go
// releases).
func stackText(t *testing.T, d *debugger.Debugger, goid int64) []string {
	t.Helper()
	frames, err := d.Stacktrace(goid, 50, 0, nil)
	if err != nil {
		t.Fatalf("stack of goroutine %d: %v", goid, err)
	}
	var out []string
	for _, f := range frames {
		s := f.Function.Name()
		if strings.HasPrefix(s, "main.") {
			s += fmt.Sprintf(":%d", f.Line)
		}
		out = append(out, s)
	}
	return out
}

// varsText renders the args then the locals of a frame, one per line.
func varsText(t *testing.T, d *debugger.Debugger, goid int64, frame int) []string {
	t.Helper()
	cfg := api.LoadConfig{FollowPointers: true, MaxVariableRecurse: 1, MaxStringLen: 64, MaxArrayValues: 64, MaxStructFields: -1}
	args, err := d.FunctionArguments(goid, frame, cfg)
	if err != nil {
		t.Fatal(err)
	}
	locals, err := d.LocalVariables(goid, frame, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range append(args, locals...) {
		out = append(out, v.Name+" = "+v.SinglelineString())
	}
	return out
}

// goroutinesText lists every goroutine as "id function:line" of its user
// location.
func goroutinesText(t *testing.T, d *debugger.Debugger) []string {
	t.Helper()
	gs, _, err := d.Goroutines(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range gs {
		out = append(out, fmt.Sprintf("%d %s:%d", g.ID, g.UserCurrentLoc.Function.Name(), g.UserCurrentLoc.Line))
	}
	return out
}

func userGoroutines(all []string) []string {
	var out []string
	for _, g := range all {
		if _, loc, _ := strings.Cut(g, " "); strings.HasPrefix(loc, "main.") {
			out = append(out, loc)
		}
	}
	return out
}

// crashStack is the panicking goroutine of the corecrash fixture in its
// kernel core: the fatal SIGABRT raised on the gsignal stack, the signal
// frame, the panic, then the three calls of explode.
var crashStack = []string{
	"runtime.raise", "runtime.dieFromSignal", "runtime.sigfwdgo", "runtime.sigtrampgo", "runtime.sigtramp",
	"runtime.raise", "runtime.dieFromSignal", "runtime.crash", "runtime.fatalpanic", "runtime.gopanic",
	"main.explode:25", "main.explode:27", "main.explode:27", "main.main:42", "runtime.main", "runtime.goexit",
}

var explodeVars = map[int][]string{
	0: {`name = "core"`, `p = main.point {X: 3, Y: 8}`, `depth = 0`, `items = []int len: 3, cap: 3, [0,3,8]`, `msg = "core:0"`},
	2: {`name = "core"`, `p = main.point {X: 1, Y: 2}`, `depth = 2`, `items = []int len: 3, cap: 3, [2,1,2]`, `msg = "core:2"`},
}

// TestKernelCoreSession opens a GOTRACEBACK=crash core through the
// service: the goroutines, the panicking goroutine's stack, arguments and
// locals in two frames, and Delve's refusals of everything that runs.
func TestKernelCoreSession(t *testing.T) {
	bin := fixture.Build(t, "corecrash", fixture.Flavour{})
	path, pid := corefile.Crash(t, bin)
	d := openCore(t, bin, path)
	if d.ProcessPid() != pid {
		t.Errorf("pid %d, want %d", d.ProcessPid(), pid)
	}
	st, err := d.State(false)
	if err != nil {
		t.Fatal(err)
	}
	if st.SelectedGoroutine == nil || st.SelectedGoroutine.ID != 1 || st.CurrentThread.Function.Name() != "runtime.raise" {
		t.Errorf("selected goroutine %+v on thread %+v, want goroutine 1 in runtime.raise", st.SelectedGoroutine, st.CurrentThread)
	}
	gs := goroutinesText(t, d)
	if want := []string{"main.explode:25", "main.worker:17", "main.worker:17", "main.worker:17"}; len(gs) != 8 || !slices.Equal(userGoroutines(gs), want) {
		t.Errorf("goroutines %q, want 8 with user ones %q", gs, want)
	}
	if gs[0] != "1 main.explode:25" {
		t.Errorf("first goroutine %q, want goroutine 1 in explode", gs[0])
	}
	stk := stackText(t, d, 1)
	if !slices.Equal(stk, crashStack) {
		t.Errorf("stack of goroutine 1\n got %q\nwant %q", stk, crashStack)
	}
	top := slices.Index(stk, "main.explode:25")
	for rel, want := range explodeVars {
		if got := varsText(t, d, 1, top+rel); !slices.Equal(got, want) {
			t.Errorf("frame %d vars\n got %q\nwant %q", top+rel, got, want)
		}
	}

	for _, cmd := range []string{api.Continue, api.Next, api.Step, api.StepOut, api.StepInstruction} {
		if _, err := d.Command(api.DebuggerCommand{Name: cmd}, nil); err == nil || err.Error() != "can not continue execution of core process" {
			t.Errorf("%s on a core: %v", cmd, err)
		}
	}
	if _, err := d.CreateBreakpoint(api.Breakpoint{}, "main.go:25"); err == nil || err.Error() != "cannot write a breakpoint to a core file" {
		t.Errorf("breakpoint on a core: %v", err)
	}
	if err := d.Set(1, top, "depth", "5"); err == nil || err.Error() != "can not write to core process" {
		t.Errorf("set on a core: %v", err)
	}
	if _, err := d.Restart(false, nil); err == nil {
		t.Error("restarted a core")
	}
	if err := d.DumpStart(filepath.Join(t.TempDir(), "again")); err == nil || err.Error() != "core dumping not supported" {
		t.Errorf("dump of a core: %v", err)
	}
}

// TestDumpSession dumps the fixture stopped at the panic, plain and PIE,
// and opens the dump: its goroutines, stack and values are the live
// process's.
func TestDumpSession(t *testing.T) {
	for _, fl := range []fixture.Flavour{{}, {PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) { dumpSession(t, fl) })
	}
}

func dumpSession(t *testing.T, fl fixture.Flavour) {
	live := launch(t, "corecrash", fl)
	if _, err := live.CreateBreakpoint(api.Breakpoint{}, "main.go:25"); err != nil {
		t.Fatal(err)
	}
	at(t, run(t, live, api.Continue), "main.explode", 25)
	wantGs, wantStk := goroutinesText(t, live), stackText(t, live, 1)
	wantVars := [][]string{varsText(t, live, 1, 0), varsText(t, live, 1, 2)}
	if !slices.Equal(wantVars[0], explodeVars[0]) {
		t.Fatalf("live values %q", wantVars[0])
	}

	path := filepath.Join(t.TempDir(), "dump")
	if err := live.DumpStart(path); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	st := live.DumpWait(time.Second)
	for st.Dumping && time.Now().Before(deadline) {
		st = live.DumpWait(time.Second)
	}
	if !st.AllDone || st.Err != "" || st.MemDone != st.MemTotal || st.MemTotal == 0 || st.ThreadsDone != st.ThreadsTotal {
		t.Fatalf("dump ended with %+v", st)
	}
	bin := fixture.Build(t, "corecrash", fl)
	d := openCore(t, bin, path)
	if d.ProcessPid() != live.ProcessPid() {
		t.Errorf("dump pid %d, live %d", d.ProcessPid(), live.ProcessPid())
	}
	if gs := goroutinesText(t, d); !slices.Equal(gs, wantGs) {
		t.Errorf("goroutines\n dump %q\n live %q", gs, wantGs)
	}
	if stk := stackText(t, d, 1); !slices.Equal(stk, wantStk) {
		t.Errorf("stack\n dump %q\n live %q", stk, wantStk)
	}
	for i, frame := range []int{0, 2} {
		if got := varsText(t, d, 1, frame); !slices.Equal(got, wantVars[i]) {
			t.Errorf("frame %d\n dump %q\n live %q", frame, got, wantVars[i])
		}
	}
	// The dump still lets the live process go on.
	if _, err := live.Command(api.DebuggerCommand{Name: api.Next}, nil); err != nil {
		t.Errorf("next after the dump: %v", err)
	}
}
