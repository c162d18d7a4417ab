package trace

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
)

// listSink keeps each event as "call main.f(first argument)" or
// "return main.f", and counts unpaired returns.
type listSink struct {
	lines    []string
	unpaired int
}

func (s *listSink) Event(ev *Event) error {
	if ev.Kind == Call {
		s.lines = append(s.lines, fmt.Sprintf("call %s(%s)", ev.Function, ev.Values[0].Value))
	} else {
		s.lines = append(s.lines, "return "+ev.Function)
		if ev.Unpaired {
			s.unpaired++
		}
	}
	return nil
}

func (s *listSink) Close() error { return nil }

// TestTraceIf runs `trace --if` on condhot with both backends: the eBPF
// one filters in the kernel, the ptrace one by stopping; both report the
// same calls with their returns and count the same filtered calls and
// faults. condhot calls hot(i, ...) for i in [0, 64); hot calls mark(i);
// hot's p is nil when i%4 == 0 and invalid when i%4 == 1, otherwise p.V
// is (i%6)*11 - 20.
func TestTraceIf(t *testing.T) {
	cases := []struct {
		re, cond         string
		pass             []int
		filtered, faults uint64
		perCall          int
	}{
		{`^main\.(hot|mark)$`, "i%8 == 3 || i > 60", []int{3, 11, 19, 27, 35, 43, 51, 59, 61, 62, 63}, 2 * 53, 0, 2},
		{`^main\.hot$`, "i%8 == 3 || (i > 40 && p.V > 0)", nil, 0, 0, 1},
	}
	// The second case's verdicts, from condhot's values.
	for i := 0; i < 64; i++ {
		switch {
		case i%8 == 3:
			cases[1].pass = append(cases[1].pass, i)
		case i <= 40:
			cases[1].filtered++
		case i%4 < 2:
			cases[1].faults++
		case (i%6)*11-20 <= 0:
			cases[1].filtered++
		default:
			cases[1].pass = append(cases[1].pass, i)
		}
	}
	path := fixture.Build(t, "condhot", fixture.Flavour{Optimized: true})
	for _, ebpf := range []bool{false, true} {
		if ebpf {
			testenv.RequireRoot(t)
		} else {
			testenv.RequirePtrace(t)
		}
		for _, c := range cases {
			sink := &listSink{}
			sum, err := Run(context.Background(), Options{Regexp: c.re, Exec: path, EBPF: ebpf, Cond: c.cond,
				Stdout: testproc.DevNull(t)}, sink)
			if err != nil {
				t.Fatalf("ebpf=%v --if %q: %v", ebpf, c.cond, err)
			}
			var want []string
			for _, i := range c.pass {
				want = append(want, fmt.Sprintf("call main.hot(%d)", i))
				if c.perCall == 2 {
					want = append(want, fmt.Sprintf("call main.mark(%d)", i), "return main.mark")
				}
				want = append(want, "return main.hot")
			}
			if g, w := strings.Join(sink.lines, "\n"), strings.Join(want, "\n"); g != w || sink.unpaired != 0 {
				t.Errorf("ebpf=%v --if %q: %d unpaired, events\n%s\nwant\n%s", ebpf, c.cond, sink.unpaired, g, w)
			}
			if !sum.Cond || sum.Filtered != c.filtered || sum.CondFaults != c.faults {
				t.Errorf("ebpf=%v --if %q: summary %+v, want %d filtered, %d faults", ebpf, c.cond, sum, c.filtered, c.faults)
			}
			if want := fmt.Sprintf("; %d calls filtered by the condition, %d condition faults", c.filtered, c.faults); !strings.Contains(sum.String(), want) {
				t.Errorf("summary line %q lacks %q", sum.String(), want)
			}
		}
	}
}
