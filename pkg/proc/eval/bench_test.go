package eval_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// bigScope stops the bigvalues fixture after it built its values and
// returns the scope of main.main.
func bigScope(b *testing.B) *eval.Scope {
	testenv.RequirePtrace(b)
	path := fixture.Build(b, "bigvalues", fixture.Flavour{})
	tg, err := proc.Launch(native.Backend{}, path, nil, proc.LaunchConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tg.Kill() })
	if st, err := tg.Continue(); err != nil || st.Reason != proc.StopTrap {
		b.Fatalf("continue: %v %v", st, err)
	}
	bi, err := bininfo.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bi.Close() })
	prog, err := eval.NewProgram(bi)
	if err != nil {
		b.Fatal(err)
	}
	th := tg.Process().Threads()
	var regs, _ = th[0].Registers()
	for _, t := range th {
		if t.ID() == tg.LastStop().ThreadID {
			regs, _ = t.Registers()
		}
	}
	frames, err := stack.New(bi).Unwind(tg.Process(), stack.FromRegisters(&regs), stack.Options{MaxDepth: 10})
	for i, f := range frames {
		if f.Func.Name == "main.main" {
			sc, err := prog.FrameScope(tg.Process(), frames, i)
			if err != nil {
				b.Fatal(err)
			}
			return sc
		}
	}
	b.Fatalf("no main.main frame: %v", err)
	return nil
}

// BenchmarkLoadBigValues loads a 1,000-deep pointer chain and a 100,000
// entry map under Delve's default limits, and looks up one map key.
func BenchmarkLoadBigValues(b *testing.B) {
	sc := bigScope(b)
	for _, c := range []struct{ name, expr, want string }{
		{"chain", "chain", ""},
		{"chain-deep", "chain.Next.Next.Next.Next.Next.Next.Next.Next.Next.Depth", "10"},
		{"map", "bigMap", ""},
		{"map-index", "bigMap[31]", `"v31"`},
		{"map-index-last", "bigMap[99999]", `"v99999"`},
		// A missing key walks the whole map: the worst case of a lookup.
		{"map-index-missing", "bigMap[100000]", "key not found"},
		{"map-page-last", "bigMap[99936:]", ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v, err := sc.Eval(c.expr, value.DefaultLoadConfig)
				if c.want == "key not found" {
					if err == nil || err.Error() != c.want {
						b.Fatalf("%s: error %v, want %s", c.expr, err, c.want)
					}
					continue
				}
				if err != nil || v.Unreadable != nil {
					b.Fatalf("%s: %v %v", c.expr, err, v.Unreadable)
				}
				if c.want != "" && api.FormatVar(v) != c.want {
					b.Fatalf("%s = %s, want %s", c.expr, api.FormatVar(v), c.want)
				}
			}
		})
	}
}
