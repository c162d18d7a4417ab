package proc_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
)

// BenchmarkContinueCycle measures one breakpoint hit → continue round trip
// in the core, without any service or terminal on top.
func BenchmarkContinueCycle(b *testing.B) {
	testenv.RequirePtrace(b)
	bin := fixture.Build(b, "hotloop", fixture.Flavour{})
	t, err := proc.Launch(native.Backend{}, bin, nil, proc.LaunchConfig{Env: []string{"HOTLOOP_N=1000000"}})
	if err != nil {
		b.Fatal(err)
	}
	defer t.Kill()
	if _, err := t.SetBreakpointFunc("main.hot"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := t.Continue()
		if err != nil {
			b.Fatal(err)
		}
		if st.Reason != proc.StopBreakpoint {
			b.Fatalf("stop %v", st)
		}
	}
}
