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

// BenchmarkList10k measures reading the 10,000 parked goroutines of
// manygoroutines, whose g structs List reads in shared spans.
func BenchmarkList10k(b *testing.B) {
	testenv.RequirePtrace(b)
	s := stacktest.Launch(b, fixture.Build(b, "manygoroutines", fixture.Flavour{}))
	s.BreakAt("main.ready")
	s.ContinueN(1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if gs, err := goroutine.List(s.Bin, s.Proc); err != nil || len(gs) < 10000 {
			b.Fatalf("List: %d goroutines, %v", len(gs), err)
		}
	}
}
