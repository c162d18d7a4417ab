package goroutine_test

import (
	"encoding/binary"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/stack/stacktest"
)

// TestIDReaderAgreesWithCurrent compares the tracer's short goid lookup with
// Current on every thread at a breakpoint: the hit thread (whose goid R14
// also gives), idle threads (0) and any other. Run several stops so that
// threads on system stacks are likely met too.
func TestIDReaderAgreesWithCurrent(t *testing.T) {
	testenv.RequirePtrace(t)
	s := stacktest.Launch(t, fixture.Build(t, "goroutines", fixture.Flavour{}))
	ids, err := goroutine.NewIDReader(s.Bin)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := s.Bin.RuntimeLayout()
	if err != nil {
		t.Fatal(err)
	}
	s.BreakAt("main.work")
	idle, running := 0, 0
	for stop := 0; stop < 3; stop++ {
		hit := s.ContinueN(1)
		got, err := ids.Current(s.Proc, &hit.Regs)
		if err != nil {
			t.Fatal(err)
		}
		goid := make([]byte, 8)
		if _, err := s.Proc.ReadMemory(goid, hit.Regs.R14+uint64(rt.G.Goid)); err != nil {
			t.Fatal(err)
		}
		if want := int64(binary.LittleEndian.Uint64(goid)); got != want || got < 2 {
			t.Errorf("stop %d: IDReader says g%d at the breakpoint, R14 holds g%d", stop, got, want)
		}
		for _, th := range s.Proc.Threads() {
			regs, err := th.Registers()
			if err != nil {
				t.Fatal(err)
			}
			g, err := goroutine.Current(s.Bin, s.Proc, &regs)
			if err != nil {
				t.Fatal(err)
			}
			want := int64(0)
			if g != nil {
				want = int64(g.ID)
				running++
			} else {
				idle++
			}
			got, err := ids.Current(s.Proc, &regs)
			if err != nil || got != want {
				t.Errorf("thread %d: IDReader says g%d (%v), Current g%d", th.ID(), got, err, want)
			}
		}
	}
	if idle == 0 || running < 3 {
		t.Errorf("%d idle and %d running threads seen; want both kinds", idle, running)
	}
}
