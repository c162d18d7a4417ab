package goroutine_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/stack/stacktest"
)

// summary renders frames as "func file:line" with base file names.
func summary(frames []stack.Frame) string {
	var out []string
	for _, f := range frames {
		out = append(out, fmt.Sprintf("%s %s:%d", f.Func.Name, filepath.Base(f.File), f.Line))
	}
	return strings.Join(out, "\n")
}

func names(frames []stack.Frame) []string {
	var out []string
	for _, f := range frames {
		out = append(out, f.Func.Name)
	}
	return out
}

func byID(gs []*goroutine.G, id uint64) *goroutine.G {
	for _, g := range gs {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// version holds what differs between Go releases in the goroutines
// fixture: how WaitGroup.Wait parks.
type version struct {
	fl         fixture.Flavour
	waitReason string // g1's wait reason while in wg.Wait
	semacquire string // the runtime function WaitGroup.Wait calls
}

func TestGoroutines(t *testing.T) {
	testenv.RequirePtrace(t)
	current := version{waitReason: "sync.WaitGroup.Wait", semacquire: "sync.runtime_SemacquireWaitGroup"}
	pie := current
	pie.fl.PIE = true
	go124 := current
	go124.fl.Toolchain = "go1.24.13"
	go122 := version{fl: fixture.Flavour{Toolchain: "go1.22.12"}, waitReason: "semacquire", semacquire: "sync.runtime_Semacquire"}
	for _, v := range []version{current, pie, go124, go122} {
		t.Run(v.fl.Name(), func(t *testing.T) { testGoroutines(t, v) })
	}
}

func testGoroutines(t *testing.T, v version) {
	fl := v.fl
	s := stacktest.Launch(t, fixture.Build(t, "goroutines", fl))
	s.BreakAt("main.work")
	u := stack.New(s.Bin)

	// Workers hit main.work 400 times; continue until main has reached
	// wg.Wait and parked there.
	var hit stacktest.Hit
	var gs []*goroutine.G
	for i := 0; ; i++ {
		// 400 hits in all: under load main can take a while to reach
		// wg.Wait, but it must before the workers are nearly done.
		if i == 390 {
			t.Fatalf("main never parked in wg.Wait")
		}
		hit = s.ContinueN(1)
		var err error
		if gs, err = goroutine.List(s.Bin, s.Proc); err != nil {
			t.Fatalf("List: %v", err)
		}
		// Parked for good: waiting, and its thread has let go of it (while
		// parking, the status changes before g.m is cleared).
		if g1 := byID(gs, 1); g1 != nil && g1.Status == goroutine.StatusWaiting && g1.ThreadID == 0 {
			break
		}
	}

	// The current goroutine is the g in R14 (the g register of Go's
	// register ABI), independently of the TLS slot Current reads.
	cur, err := goroutine.Current(s.Bin, s.Proc, &hit.Regs)
	if err != nil || cur == nil {
		t.Fatalf("Current: %v, %v", cur, err)
	}
	rt, err := s.Bin.RuntimeLayout()
	if err != nil {
		t.Fatal(err)
	}
	goid := make([]byte, 8)
	if _, err := s.Proc.ReadMemory(goid, hit.Regs.R14+uint64(rt.G.Goid)); err != nil {
		t.Fatal(err)
	}
	if cur.Addr != hit.Regs.R14 || cur.ID != binary.LittleEndian.Uint64(goid) || cur.ID < 2 {
		t.Errorf("Current: g%d at %#x; R14 holds g%d at %#x", cur.ID, cur.Addr, binary.LittleEndian.Uint64(goid), hit.Regs.R14)
	}
	if cur.Status != goroutine.StatusRunning || cur.ThreadID != hit.Thread.ID() || cur.OnSystemStack || cur.System {
		t.Errorf("Current: %+v, want running on thread %d, user goroutine on its own stack", cur, hit.Thread.ID())
	}
	if g := byID(gs, cur.ID); g == nil || g.Addr != cur.Addr || g.ThreadID != cur.ThreadID {
		t.Errorf("List does not hold the current goroutine %+v: %+v", cur, g)
	}

	// The list: main, the workers started so far (none has finished: the
	// breakpoint holds each at its first call), runtime helpers; no dead g.
	if len(gs) < 2 {
		t.Fatalf("List: %d goroutines, want at least 2", len(gs))
	}
	workers := 0
	for _, g := range gs {
		if g.Status == goroutine.StatusDead || g.ID == 0 {
			t.Errorf("List returned a dead or system g slot: %+v", g)
		}
		start := goroutine.StartLoc(s.Bin, g)
		switch {
		case start.Func == "main.main.gowrap1":
			workers++
			if g.System || start.Line != 20 || filepath.Base(start.File) != "main.go" {
				t.Errorf("worker g%d: start %v system %v", g.ID, start, g.System)
			}
			if gl := goroutine.GoLoc(s.Bin, g); gl.Func != "main.main" || gl.Line != 20 {
				t.Errorf("worker g%d: go statement at %v, want main.main line 20", g.ID, gl)
			}
		case start.Func == "runtime.main":
			if g.ID != 1 || g.System {
				t.Errorf("runtime.main runs in g%d system=%v, want g1 user", g.ID, g.System)
			}
		case strings.HasPrefix(start.Func, "runtime."):
			if !g.System {
				t.Errorf("g%d started in %s is not marked system", g.ID, start.Func)
			}
		}
	}
	// The first worker can hit the breakpoint before main has run all
	// eight go statements (seen on a loaded machine); none can have ended.
	if workers < 1 || workers > 8 {
		t.Errorf("%d worker goroutines, want 1 to 8", workers)
	}
	var forcegc *goroutine.G
	for _, g := range gs {
		if goroutine.StartLoc(s.Bin, g).Func == "runtime.forcegchelper" {
			forcegc = g
		}
	}
	// The helper parks as soon as it first runs, which may not have
	// happened yet.
	if forcegc == nil || !forcegc.System || (forcegc.Status == goroutine.StatusWaiting) != (forcegc.WaitReason == "force gc (idle)") {
		t.Errorf("forcegc helper: %+v, want a system goroutine, waiting with reason \"force gc (idle)\" once it ran", forcegc)
	}

	// The current worker, from its thread's registers.
	frames, err := goroutine.Stacktrace(u, s.Proc, cur, &hit.Regs, 0)
	if err != nil {
		t.Fatalf("worker stack: %v\n%s", err, summary(frames))
	}
	want := "main.work main.go:8\nmain.main.func1 main.go:23\nmain.main.gowrap1 main.go:25\nruntime.goexit asm_amd64.s:" +
		fmt.Sprint(goexitLine(t, s, fl))
	if got := summary(frames); got != want {
		t.Errorf("worker stack:\n%s\nwant:\n%s", got, want)
	}
	if loc := goroutine.CurrentLoc(s.Bin, cur, &hit.Regs); loc.Func != "main.work" || loc.Line != 8 || loc.PC != hit.Regs.Rip {
		t.Errorf("current location %v", loc)
	}

	// main, parked in wg.Wait, from g.sched.
	g1 := byID(gs, 1)
	if g1.WaitReason != v.waitReason || g1.ThreadID != 0 || g1.MAddr != 0 {
		t.Errorf("g1: %+v, want waiting for %q on no thread", g1, v.waitReason)
	}
	frames, err = goroutine.Stacktrace(u, s.Proc, g1, nil, 0)
	if err != nil {
		t.Fatalf("main stack: %v\n%s", err, summary(frames))
	}
	wantNames := []string{"runtime.gopark", "runtime.goparkunlock", "runtime.semacquire1", v.semacquire,
		"sync.(*WaitGroup).Wait", "main.main", "runtime.main", "runtime.goexit"}
	if got := names(frames); strings.Join(got, ",") != strings.Join(wantNames, ",") {
		t.Fatalf("main stack:\n%s\nwant functions %v", summary(frames), wantNames)
	}
	if f := frames[5]; f.Line != 27 || filepath.Base(f.File) != "main.go" {
		t.Errorf("main.main frame at %s:%d, want main.go:27", f.File, f.Line)
	}
	for i := 1; i < len(frames); i++ {
		if frames[i].CFA <= frames[i-1].CFA || frames[i].CFA > g1.StackHi || frames[i].SP < g1.StackLo {
			t.Errorf("frame %d CFA %#x outside [%#x, %#x] or not growing", i, frames[i].CFA, g1.StackLo, g1.StackHi)
		}
	}
	if loc := goroutine.CurrentLoc(s.Bin, g1, nil); loc.Func != "runtime.gopark" || loc.Line != frames[0].Line || loc.PC != g1.Sched.PC {
		t.Errorf("g1 current location %v, want runtime.gopark at line %d", loc, frames[0].Line)
	}
	if uf, ok := goroutine.UserFrame(frames); !ok || uf.Func.Name != v.semacquire {
		t.Errorf("g1 user frame %v, want %s (linknamed runtime code counts as user code, as in Delve)", uf.Func.Name, v.semacquire)
	}

	// Every other goroutine unwinds cleanly to runtime.goexit, from its
	// thread when running and from g.sched otherwise.
	for _, g := range gs {
		var frames []stack.Frame
		var err error
		if g.ThreadID != 0 {
			r, rerr := s.Registers(g.ThreadID)
			if rerr != nil {
				t.Fatalf("g%d: %v", g.ID, rerr)
			}
			frames, err = goroutine.Stacktrace(u, s.Proc, g, &r, 0)
		} else {
			frames, err = goroutine.Stacktrace(u, s.Proc, g, nil, 0)
		}
		if err != nil || len(frames) == 0 || frames[len(frames)-1].Func.Name != "runtime.goexit" {
			t.Errorf("g%d (%v): %v\n%s", g.ID, g.Status, err, summary(frames))
		}
	}
}

// goexitLine is the line of runtime.goexit that its frames report: that of
// the NOP before the call to goexit1. For the running toolchain it is read
// from the runtime source, so the expectation stays independent of the
// line table; other toolchains' sources are not at hand, so their line is
// that of goexit's entry in the binary's line table.
func goexitLine(t *testing.T, s *stacktest.Session, fl fixture.Flavour) int {
	t.Helper()
	if fl.Toolchain != "" {
		sym, ok := s.Bin.Symbol("runtime.goexit.abi0")
		if !ok {
			t.Fatal("no runtime.goexit.abi0 symbol")
		}
		_, line, _ := s.Bin.PCToLine(sym.Addr)
		return line
	}
	b, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "runtime", "asm_amd64.s"))
	if err != nil {
		t.Fatal(err)
	}
	in := false
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "TEXT runtime·goexit(SB)") {
			in = true
		}
		if in && strings.Contains(l, "BYTE	$0x90") {
			return i + 1
		}
	}
	t.Fatal("runtime.goexit not found in asm_amd64.s")
	return 0
}

// TestSystemStackSwitch stops on g0 inside runtime.newproc1, which
// runtime.newproc runs through runtime.systemstack, and checks that the
// unwinder continues on main's stack from its saved context.
func TestSystemStackSwitch(t *testing.T) {
	testenv.RequirePtrace(t)
	s := stacktest.Launch(t, fixture.Build(t, "goroutines", fixture.Flavour{}))
	s.BreakAt("runtime.newproc1")
	u := stack.New(s.Bin)
	for i := 0; i < 30; i++ {
		hit := s.ContinueN(1)
		cur, err := goroutine.Current(s.Bin, s.Proc, &hit.Regs)
		if err != nil {
			t.Fatalf("Current on g0: %v", err)
		}
		if cur == nil || cur.ID != 1 {
			continue // rt0_go creating g1 on g0, or the runtime starting helpers
		}
		if !cur.OnSystemStack || cur.Sched.SP == 0 {
			t.Fatalf("g1 in newproc1: %+v, want it on the system stack with a saved context", cur)
		}
		frames, err := goroutine.Stacktrace(u, s.Proc, cur, &hit.Regs, 0)
		if err != nil {
			t.Fatalf("Stacktrace: %v\n%s", err, summary(frames))
		}
		got := names(frames)
		if len(got) < 3 || got[len(got)-3] != "main.main" {
			continue // runtime.main's own go statements
		}
		want := []string{"runtime.newproc1", "runtime.newproc.func1", "runtime.systemstack", "runtime.systemstack_switch",
			"runtime.newproc", "main.main", "runtime.main", "runtime.goexit"}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("stack:\n%s\nwant %v", summary(frames), want)
		}
		if frames[5].Line != 20 {
			t.Errorf("main.main at line %d, want 20 (the go statement)", frames[5].Line)
		}
		// Without the goroutine's context the stack ends at the switch.
		frames, err = u.Unwind(s.Proc, stack.FromRegisters(&hit.Regs), stack.Options{})
		if err != nil || strings.Join(names(frames), ",") != "runtime.newproc1,runtime.newproc.func1,runtime.systemstack" {
			t.Errorf("g0 alone: %v\n%s", err, summary(frames))
		}
		return
	}
	t.Fatalf("main.main never reached runtime.newproc1")
}

// TestIdleThreads checks threads that run no goroutine: Current is nil and
// their g0 stack ends cleanly at runtime.mstart, runtime.mcall, or
// runtime.clone for a thread just being created.
func TestIdleThreads(t *testing.T) {
	testenv.RequirePtrace(t)
	s := stacktest.Launch(t, fixture.Build(t, "goroutines", fixture.Flavour{}))
	s.BreakAt("main.work")
	s.ContinueN(1)
	u := stack.New(s.Bin)
	idle := 0
	for _, th := range s.Proc.Threads() {
		regs, err := th.Registers()
		if err != nil {
			t.Fatal(err)
		}
		g, err := goroutine.Current(s.Bin, s.Proc, &regs)
		if err != nil {
			t.Fatalf("thread %d: %v", th.ID(), err)
		}
		frames, err := goroutine.Stacktrace(u, s.Proc, g, &regs, 0)
		if g != nil {
			if g.ThreadID != th.ID() {
				t.Errorf("thread %d runs g%d whose m.procid is %d", th.ID(), g.ID, g.ThreadID)
			}
			continue
		}
		idle++
		last := ""
		if len(frames) > 0 {
			last = frames[len(frames)-1].Func.Name
		}
		if err != nil || (last != "runtime.mstart" && last != "runtime.mcall" && last != "runtime.clone") {
			t.Errorf("idle thread %d: %v\n%s", th.ID(), err, summary(frames))
		}
	}
	if idle == 0 {
		t.Errorf("no idle thread (sysmon always runs without a goroutine)")
	}
}
