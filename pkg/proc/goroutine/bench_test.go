package goroutine_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/stack/stacktest"
)

// BenchmarkList measures reading every goroutine of the goroutines fixture
// (about 13) from a stopped process.
func BenchmarkList(b *testing.B) {
	testenv.RequirePtrace(b)
	s := stacktest.Launch(b, fixture.Build(b, "goroutines", fixture.Flavour{}))
	s.BreakAt("main.work")
	s.ContinueN(1)
	if _, err := goroutine.List(s.Bin, s.Proc); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := goroutine.List(s.Bin, s.Proc); err != nil {
			b.Fatal(err)
		}
	}
}
