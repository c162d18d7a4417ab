package eval_test

import (
	"fmt"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// stopAtLine runs fixture name (built as fl) to its first stop at line and
// returns the session with the stopped thread's stack pointer.
func stopAtLine(t *testing.T, name string, fl fixture.Flavour, line int) (*session, uint64) {
	t.Helper()
	s := start(t, name, fl)
	if _, err := s.tg.SetBreakpointLine(fixture.Source(name), line); err != nil {
		t.Fatal(err)
	}
	if st := s.cont(); st.Line != line {
		t.Fatalf("stopped at %s:%d, want line %d", st.Function, st.Line, line)
	}
	return s, s.threadSP()
}

// threadSP is the stack pointer of the thread that stopped last.
func (s *session) threadSP() uint64 {
	s.t.Helper()
	tid := s.tg.LastStop().ThreadID
	for _, th := range s.tg.Process().Threads() {
		if th.ID() == tid {
			regs, err := th.Registers()
			if err != nil {
				s.t.Fatal(err)
			}
			return regs.SP()
		}
	}
	s.t.Fatalf("no thread %d", tid)
	return 0
}

// TestAddrOfSpilledArg takes the address of (*Point).Scale's arguments in
// -N -l builds of basic. At the first instruction of line 19 the location
// lists still say RAX and RBX (the spill to the stack happened, but DWARF
// only switches to the stack slot two bytes later), so & refuses with
// Delve's message instead of inventing an address as Delve does
// (0xbeef000000000000). At line 20 p lives at the CFA and k at CFA+8; the
// frame has no locals, so CFA = SP+8.
func TestAddrOfSpilledArg(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		fl := fixture.Flavour{Toolchain: tc}
		t.Run(fl.Name(), func(t *testing.T) {
			s, sp := stopAtLine(t, "basic", fl, 19)
			sc := s.scope("main.(*Point).Scale")
			// The prologue already stored p in its slot: main's p.
			mainP := s.word(sp + 8)
			expr(t, sc, "p", fmt.Sprintf("(*main.Point)(%#x)\n*main.Point {X: 3, Y: 4, Name: \"pt\"}", mainP))
			exprErr(t, sc, "&p", `can not take address of "p"`)
			exprErr(t, sc, "&k", `can not take address of "k"`)

			if _, err := s.tg.SetBreakpointLine(fixture.Source("basic"), 20); err != nil {
				t.Fatal(err)
			}
			st := s.cont()
			if st.Line != 20 {
				t.Fatalf("stopped at line %d, want 20", st.Line)
			}
			sp = s.threadSP()
			sc = s.scope("main.(*Point).Scale")
			expr(t, sc, "&p", fmt.Sprintf("(**main.Point)(%#x)", sp+8))
			expr(t, sc, "&k", fmt.Sprintf("(*int)(%#x)", sp+16))
			expr(t, sc, "*&p", fmt.Sprintf("(*main.Point)(%#x)\n*main.Point {X: 6, Y: 4, Name: \"pt\"}", mainP))
			expr(t, sc, "(*&p).X + *&k", "8")
			expr(t, sc, "&p.Y", fmt.Sprintf("(*int)(%#x)", mainP+8))
		})
	}
}

// TestClosureCaptured prints the closure c of the closures fixture as
// Delve 1.27.2 does: its captured n (by reference) before and after the
// first call, as children of the func value so that a client converting
// the Variable gets them. Go 1.22 emits no closure offsets: name only.
func TestClosureCaptured(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		fl := fixture.Flavour{Toolchain: tc}
		t.Run(fl.Name(), func(t *testing.T) {
			s, _ := stopAtLine(t, "closures", fl, 19)
			sc := s.scope("main.main")
			old := tc == "go1.22.12"
			want := "main.makeCounter.func1 {\n\tn int = 10\n}"
			if old {
				want = "main.makeCounter.func1"
			}
			expr(t, sc, "c", want)

			if _, err := s.tg.SetBreakpointLine(fixture.Source("closures"), 20); err != nil {
				t.Fatal(err)
			}
			if st := s.cont(); st.Line != 20 {
				t.Fatalf("stopped at line %d, want 20", st.Line)
			}
			sc = s.scope("main.main")
			v, err := sc.Eval("c", value.DefaultLoadConfig)
			if err != nil {
				t.Fatal(err)
			}
			want, kids := "main.makeCounter.func1 {\n\tn int = 11\n}", "[n int 11]"
			if old {
				want, kids = "main.makeCounter.func1", "[]"
			}
			if got := api.FormatVarMultiline(v); got != want {
				t.Errorf("print c:\n got %q\nwant %q", got, want)
			}
			if got := api.FormatVar(v); got != "main.makeCounter.func1" {
				t.Errorf("one-line c = %q", got)
			}
			var got []string
			for _, c := range v.Children {
				got = append(got, c.Name, c.Type, c.Value)
			}
			if fmt.Sprint(got) != kids {
				t.Errorf("children of c = %v, want %s", got, kids)
			}
		})
	}
}

// TestClosureOptimized checks that the optimized closures fixture, where
// makeCounter is inlined and c lives nowhere, fails as Delve does.
func TestClosureOptimized(t *testing.T) {
	s, _ := stopAtLine(t, "closures", fixture.Flavour{Optimized: true}, 20)
	exprErr(t, s.scope("main.main"), "c", "could not find symbol value for c")
}
