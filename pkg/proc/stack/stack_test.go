package stack_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/stack/stacktest"
)

// want is an expected logical frame.
type want struct {
	fn      string
	file    string // base name
	line    int
	inlined bool
}

// runtimeLine finds the line of the running toolchain's runtime source file
// holding text after the line holding anchor, so that expectations about
// runtime frames stay exact across Go versions.
func runtimeLine(t *testing.T, file, anchor, text string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "runtime", file))
	if err != nil {
		t.Fatalf("reading runtime source: %v", err)
	}
	seen := false
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, anchor) {
			seen = true
		}
		if seen && strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("%q after %q not found in runtime/%s", text, anchor, file)
	return 0
}

// bottom returns the frames every goroutine started by the runtime ends
// with below main.main: runtime.main and runtime.goexit.
func bottom(t *testing.T) []want {
	return []want{
		{fn: "runtime.main", file: "proc.go", line: runtimeLine(t, "proc.go", "fn := main_main", "fn()")},
		goexit(t),
	}
}

// goexit is the outermost frame of every goroutine: the NOP before the
// call to goexit1, where newproc points the return address.
func goexit(t *testing.T) want {
	return want{fn: "runtime.goexit", file: "asm_amd64.s", line: runtimeLine(t, "asm_amd64.s", "TEXT runtime·goexit(SB)", "BYTE	$0x90")}
}

func checkFrames(t *testing.T, frames []stack.Frame, wants []want) {
	t.Helper()
	var got []string
	for _, f := range frames {
		got = append(got, fmt.Sprintf("%s %s:%d inlined=%v", f.Func.Name, filepath.Base(f.File), f.Line, f.Inlined))
	}
	var exp []string
	for _, w := range wants {
		exp = append(exp, fmt.Sprintf("%s %s:%d inlined=%v", w.fn, w.file, w.line, w.inlined))
	}
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Fatalf("stack mismatch\ngot:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(exp, "\n  "))
	}
}

func TestRecursion(t *testing.T) {
	testenv.RequirePtrace(t)
	for _, fl := range []fixture.Flavour{{}, {Optimized: true}, {PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			s := stacktest.Launch(t, fixture.Build(t, "recursion", fl))
			s.BreakAt("main.fact")
			// Non-optimized: the 5th hit is fact(1), five physical fact
			// frames deep. Optimized, Go 1.26 inlines one level of the
			// recursion at every call (main calls fact(4) with fact(5)
			// inlined; fact(n) calls fact(n-2)) and folds fact(1) into a
			// constant, so the last hit is fact(2) and the logical stack
			// alternates physical and inlined fact frames.
			hits, wantN := 5, uint64(1)
			ws := []want{{fn: "main.fact", file: "main.go", line: 5}} // prologue_end, on the func line
			if fl.Optimized {
				hits, wantN = 2, 2
				ws = append(ws,
					want{fn: "main.fact", file: "main.go", line: 9, inlined: true},
					want{fn: "main.fact", file: "main.go", line: 9},
					want{fn: "main.fact", file: "main.go", line: 9, inlined: true})
			} else {
				for i := 0; i < 4; i++ {
					ws = append(ws, want{fn: "main.fact", file: "main.go", line: 9})
				}
			}
			ws = append(ws, want{fn: "main.main", file: "main.go", line: 13})
			hit := s.ContinueN(hits)
			if hit.Regs.Rax != wantN {
				t.Fatalf("stopped in fact(%d), want fact(%d)", hit.Regs.Rax, wantN)
			}

			u := stack.New(s.Bin)
			frames, err := u.Unwind(s.Proc, stack.FromRegisters(&hit.Regs), stack.Options{})
			if err != nil {
				t.Fatalf("Unwind: %v (frames %v)", err, frames)
			}
			checkFrames(t, frames, append(ws, bottom(t)...))

			// Frame facts: the innermost frame is the stopped PC; each
			// caller's SP is its callee's CFA, and CFAs grow.
			if !frames[0].Top || frames[0].PC != hit.Regs.Rip || frames[0].SP != hit.Regs.Rsp {
				t.Errorf("top frame %+v does not match the thread (pc %#x sp %#x)", frames[0], hit.Regs.Rip, hit.Regs.Rsp)
			}
			for i := 1; i < len(frames); i++ {
				if frames[i].CFA == frames[i-1].CFA {
					// Logical frames of one physical frame.
					if frames[i].PC != frames[i-1].PC || !frames[i-1].Inlined {
						t.Errorf("frame %d shares PC with an outer frame but is not its inlined callee", i)
					}
					continue
				}
				if frames[i].Top {
					t.Errorf("frame %d marked top", i)
				}
				if frames[i].SP != frames[i-1].CFA {
					t.Errorf("frame %d: SP %#x != callee CFA %#x", i, frames[i].SP, frames[i-1].CFA)
				}
				if frames[i].CFA <= frames[i-1].CFA {
					t.Errorf("frame %d: CFA %#x does not grow from %#x", i, frames[i].CFA, frames[i-1].CFA)
				}
				if frames[i].LookupPC() != frames[i].PC-1 {
					t.Errorf("frame %d: LookupPC %#x for return address %#x", i, frames[i].LookupPC(), frames[i].PC)
				}
				if cfa := frames[i].Regs.CFA; uint64(cfa) != frames[i].CFA {
					t.Errorf("frame %d: Regs.CFA %#x != CFA %#x", i, cfa, frames[i].CFA)
				}
			}
			// The argument n of each caller fact frame is on the stack at
			// the frame's CFA in the non-optimized build (spilled after the
			// prologue); check the recovered CFAs point at 2..5. The top
			// frame stopped at prologue_end, before its spill: its n is the
			// Rax checked above.
			if !fl.Optimized {
				for i := 1; i < 5; i++ {
					checkSpilledArg(t, s, frames[i], uint64(i+1))
				}
			}

			// A depth bound cuts the stack and says so.
			cut, err := u.Unwind(s.Proc, stack.FromRegisters(&hit.Regs), stack.Options{MaxDepth: 3})
			if !errors.Is(err, stack.ErrMaxDepth) || len(cut) != 3 {
				t.Errorf("MaxDepth 3: %d frames, err %v; want 3 frames and ErrMaxDepth", len(cut), err)
			}
		})
	}
}

// checkSpilledArg checks the register-ABI spill slot of fact's argument n,
// which the non-optimized prologue stores at CFA+0 (the caller's outgoing
// argument area).
func checkSpilledArg(t *testing.T, s *stacktest.Session, f stack.Frame, n uint64) {
	t.Helper()
	buf := make([]byte, 8)
	if _, err := s.Proc.ReadMemory(buf, f.CFA); err != nil {
		t.Fatalf("reading arg slot: %v", err)
	}
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(buf[i])
	}
	if v != n {
		t.Errorf("fact frame with CFA %#x: n = %d, want %d", f.CFA, v, n)
	}
}

// garbage is memory whose every word is the same value.
type garbage uint64

func (g garbage) ReadMemory(buf []byte, addr uint64) (int, error) {
	for i := range buf {
		buf[i] = byte(uint64(g) >> (8 * ((addr + uint64(i)) % 8)))
	}
	return len(buf), nil
}

// TestCorruptMemoryEnds unwinds the stopped thread's registers against
// memory that holds the same word everywhere: return addresses loop back
// into main.fact forever, and the unwinder must stop on its own.
func TestCorruptMemoryEnds(t *testing.T) {
	testenv.RequirePtrace(t)
	s := stacktest.Launch(t, fixture.Build(t, "recursion", fixture.Flavour{}))
	addr := s.BreakAt("main.fact")
	hit := s.ContinueN(1)
	u := stack.New(s.Bin)
	for _, mem := range []stack.MemoryReader{garbage(addr + 1), garbage(0), garbage(hit.Regs.Rsp)} {
		// Unbounded stack: the depth limit ends it.
		frames, err := u.Unwind(mem, stack.FromRegisters(&hit.Regs), stack.Options{MaxDepth: 100})
		if len(frames) > 100 || (err != nil && !errors.Is(err, stack.ErrTruncated) && !errors.Is(err, stack.ErrMaxDepth)) {
			t.Errorf("memory %#x: %d frames, err %v", uint64(mem.(garbage)), len(frames), err)
		}
		// Bounded stack: leaving it is detected as corruption long
		// before the depth limit.
		frames, err = u.Unwind(mem, stack.FromRegisters(&hit.Regs), stack.Options{StackLo: hit.Regs.Rsp - 1024, StackHi: hit.Regs.Rsp + 1024})
		if len(frames) > 100 || (err != nil && !errors.Is(err, stack.ErrTruncated)) {
			t.Errorf("bounded, memory %#x: %d frames, err %v; want a short stack", uint64(mem.(garbage)), len(frames), err)
		}
		if len(frames) == 0 || frames[0].Func.Name != "main.fact" {
			t.Errorf("memory %#x: innermost frame should still be main.fact, got %v", uint64(mem.(garbage)), frames)
		}
	}
	// A PC of 0 has no frame at all.
	zero := arch.Registers{Rsp: hit.Regs.Rsp}
	if frames, err := u.Unwind(s.Proc, stack.FromRegisters(&zero), stack.Options{}); err == nil || len(frames) != 0 {
		t.Errorf("PC 0: frames %v err %v, want an error", frames, err)
	}
}

func TestInlining(t *testing.T) {
	testenv.RequirePtrace(t)
	s := stacktest.Launch(t, fixture.Build(t, "inlining", fixture.Flavour{Optimized: true}))
	// The optimizer inlines square into sumSquares and sumSquares into
	// main: stop at the first instruction of square's inlined body.
	fn, err := s.Bin.LookupFunc("main.main")
	if err != nil {
		t.Fatal(err)
	}
	var pc uint64
	for a := fn.Entry; a < fn.End && pc == 0; a++ {
		if calls := s.Bin.InlinedCallsAt(a); len(calls) == 2 && calls[0].Func == "main.square" {
			pc = a
		}
	}
	if pc == 0 {
		t.Fatalf("main.square is not inlined through main.sumSquares into main.main")
	}
	s.BreakAtPC(pc)
	hit := s.ContinueN(1)
	frames, err := stack.New(s.Bin).Unwind(s.Proc, stack.FromRegisters(&hit.Regs), stack.Options{})
	if err != nil {
		t.Fatalf("Unwind: %v", err)
	}
	ws := []want{
		{fn: "main.square", file: "main.go", line: 6, inlined: true},
		{fn: "main.sumSquares", file: "main.go", line: 12, inlined: true},
		{fn: "main.main", file: "main.go", line: 18},
	}
	checkFrames(t, frames, append(ws, bottom(t)...))
	if frames[0].PC != frames[2].PC || frames[0].CFA != frames[2].CFA || !frames[0].Top {
		t.Errorf("inlined frame and its owner must share PC and CFA: %+v vs %+v", frames[0], frames[1])
	}
}
