package goroutine_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/stack/stacktest"
)

// TestParkedWaiter stops parked's main in ready(), with waiter parked on
// its channel receive.
//
// Start: `go waiter(ch, done)` runs the compiler's wrapper
// main.main.gowrap1 (DW_AT_trampoline), which calls main.waiter; as in
// Delve, the start is main.waiter at its entry, on its func line 8.
//
// Line of the parked frame: g.sched.pc is the return address of the CALL
// runtime.mcall in runtime.gopark (mcall saves its caller's PC), so the
// frame is on the call's line, as the runtime's own traceback prints it
// (proc.go:462 in go1.26). Delve and addr2line of the saved PC say the
// line after (proc.go:463, the closing brace); the test proves the call
// from the code itself.
func TestParkedWaiter(t *testing.T) {
	testenv.RequirePtrace(t)
	for _, fl := range []fixture.Flavour{{}, {Optimized: true}, {Toolchain: "go1.22.12"}} {
		t.Run(fl.Name(), func(t *testing.T) {
			s := stacktest.Launch(t, fixture.Build(t, "parked", fl))
			s.BreakAt("main.ready")
			s.ContinueN(1)
			gs, err := goroutine.List(s.Bin, s.Proc)
			if err != nil {
				t.Fatal(err)
			}
			waiter, err := s.Bin.LookupFunc("main.waiter")
			if err != nil {
				t.Fatal(err)
			}
			var w *goroutine.G
			for _, g := range gs {
				if fn := s.Bin.PCToFunc(g.StartPC); fn != nil && fn.Name == "main.main.gowrap1" {
					w = g
				}
			}
			if w == nil || w.Status != goroutine.StatusWaiting || w.ThreadID != 0 {
				t.Fatalf("no parked goroutine started through main.main.gowrap1: %+v", w)
			}
			if start := goroutine.StartLoc(s.Bin, w); start.Func != "main.waiter" || start.PC != waiter.Entry ||
				start.Line != 8 || filepath.Base(start.File) != "main.go" {
				t.Errorf("start %+v, want main.waiter at %#x main.go:8", start, waiter.Entry)
			}

			frames, err := goroutine.Stacktrace(stack.New(s.Bin), s.Proc, w, nil, 0)
			if err != nil || len(frames) == 0 || frames[0].Func.Name != "runtime.gopark" {
				t.Fatalf("waiter stack: %v\n%s", err, summary(frames))
			}
			pc := w.Sched.PC
			// The instruction ending at the saved PC is a direct CALL of
			// runtime.mcall (5 bytes: E8 rel32).
			code := make([]byte, 5)
			if _, err := s.Proc.ReadMemory(code, pc-5); err != nil {
				t.Fatal(err)
			}
			inst, err := x86asm.Decode(code, 64)
			rel, ok := inst.Args[0].(x86asm.Rel)
			if err != nil || inst.Op != x86asm.CALL || inst.Len != 5 || !ok {
				t.Fatalf("instruction before g.sched.pc %#x: %v %v, want a CALL", pc, inst, err)
			}
			if callee := s.Bin.PCToFunc(uint64(int64(pc) + int64(rel))); callee == nil || callee.Name != "runtime.mcall" {
				t.Fatalf("the CALL before g.sched.pc calls %v, want runtime.mcall", callee)
			}
			_, callLine, _ := s.Bin.PCToLine(pc - 5)
			_, nextLine, _ := s.Bin.PCToLine(pc)
			if callLine == nextLine {
				t.Fatalf("the CALL and the saved PC share line %d: the test no longer tells them apart", callLine)
			}
			if f := frames[0]; f.PC != pc || f.Line != callLine || filepath.Base(f.File) != "proc.go" {
				t.Errorf("gopark frame at %#x %s:%d, want %#x proc.go:%d (the line of its CALL runtime.mcall)", f.PC, f.File, f.Line, pc, callLine)
			}
			if loc := goroutine.CurrentLoc(s.Bin, w, nil); loc.Line != callLine {
				t.Errorf("current location %v, want line %d", loc, callLine)
			}
			if fl.Toolchain == "" {
				// And the source agrees (line 462 in go1.26).
				src, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "runtime", "proc.go"))
				if err != nil {
					t.Fatal(err)
				}
				if lines := strings.Split(string(src), "\n"); callLine > len(lines) || strings.TrimSpace(lines[callLine-1]) != "mcall(park_m)" {
					t.Errorf("proc.go:%d is not runtime.gopark's mcall(park_m)", callLine)
				}
			}
		})
	}
}
