package eval_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
)

// TestFloatArgsInXmm stops at the entry of regArgs(1, "four", Point{2, 3},
// 2.5): in optimized code f is in X0, and args must show it as Delve does.
func TestFloatArgsInXmm(t *testing.T) {
	for _, fl := range []fixture.Flavour{{Optimized: true}, {}} {
		t.Run(fl.Name(), func(t *testing.T) {
			s := start(t, "scopes", fl)
			if _, err := s.tg.SetBreakpointFunc("main.regArgs"); err != nil {
				t.Fatal(err)
			}
			for s.cont().Function != "main.regArgs" {
			}
			ret := "0"
			if fl.Optimized {
				ret = "(unreadable empty OP stack)"
			}
			sc := s.scope("main.regArgs")
			want := "n = 1\ns = \"four\"\np = main.Point {X: 2, Y: 3}\nf = 2.5\n~r0 = " + ret + "\n"
			if got := vars(t, sc, true); got != want {
				t.Errorf("args:\n got %q\nwant %q", got, want)
			}
			expr(t, sc, "f", "2.5")
			expr(t, sc, "f * 2 + float64(n)", "6")
			if fl.Optimized {
				// Without the XMM registers the same frame cannot show f:
				// proof that the value above came from X0.
				expr(t, noFPScope(t, s), "f", "(unreadable piece 0: register xmm0: register value unavailable)")
			}
		})
	}
}

// noFPScope is the innermost frame's scope built from the general
// registers only.
func noFPScope(t *testing.T, s *session) *eval.Scope {
	t.Helper()
	sc, err := s.prog.FrameScope(s.tg.Process(), s.generalFrames(5), 0)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
