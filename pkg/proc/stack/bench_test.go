package stack_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/stack/stacktest"
)

// BenchmarkUnwind measures a full unwind of the 8-frame recursion stack
// through ptrace memory reads, CFI lookups and line resolution (tables
// already loaded).
func BenchmarkUnwind(b *testing.B) {
	testenv.RequirePtrace(b)
	s := stacktest.Launch(b, fixture.Build(b, "recursion", fixture.Flavour{}))
	s.BreakAt("main.fact")
	hit := s.ContinueN(5)
	u := stack.New(s.Bin)
	regs := stack.FromRegisters(&hit.Regs)
	if _, err := u.Unwind(s.Proc, regs, stack.Options{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := u.Unwind(s.Proc, regs, stack.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
