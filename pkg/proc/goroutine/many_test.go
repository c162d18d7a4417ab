package goroutine_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/stack/stacktest"
)

// TestListMany lists manygoroutines stopped in main.ready with its 10,000
// goroutines parked on one channel: List, which reads the g structs in
// shared spans, finds every one of them with its own state and stack, and
// each unwinds to main.park.
func TestListMany(t *testing.T) {
	testenv.RequirePtrace(t)
	s := stacktest.Launch(t, fixture.Build(t, "manygoroutines", fixture.Flavour{}))
	s.BreakAt("main.ready")
	s.ContinueN(1)
	gs, err := goroutine.List(s.Bin, s.Proc)
	if err != nil {
		t.Fatal(err)
	}
	u := stack.New(s.Bin)
	ids := map[uint64]bool{}
	stacks := map[uint64]bool{}
	parked, notYet := 0, 0
	for _, g := range gs {
		if ids[g.ID] {
			t.Fatalf("goroutine %d listed twice", g.ID)
		}
		ids[g.ID] = true
		if goroutine.StartLoc(s.Bin, g).Func != "main.park" {
			continue
		}
		parked++
		if g.Status != goroutine.StatusWaiting {
			// Between started.Done and the receive a goroutine still
			// runs; main's sleep makes that rare, not impossible.
			if g.Status != goroutine.StatusRunning && g.Status != goroutine.StatusRunnable {
				t.Fatalf("goroutine %d: %v, want waiting, or still on its way to the receive", g.ID, g.Status)
			}
			notYet++
			continue
		}
		if g.WaitReason != "chan receive" || g.ThreadID != 0 {
			t.Fatalf("goroutine %d: %v %q on thread %d, want waiting on chan receive, on no thread", g.ID, g.Status, g.WaitReason, g.ThreadID)
		}
		if stacks[g.StackLo] || g.StackLo >= g.StackHi || g.Sched.SP < g.StackLo || g.Sched.SP >= g.StackHi {
			t.Fatalf("goroutine %d: stack [%#x, %#x) with SP %#x, shared or inconsistent", g.ID, g.StackLo, g.StackHi, g.Sched.SP)
		}
		stacks[g.StackLo] = true
		frames, err := goroutine.Stacktrace(u, s.Proc, g, nil, 32)
		f, ok := goroutine.UserFrame(frames)
		if !ok || f.Func.Name != "main.park" {
			t.Fatalf("goroutine %d unwinds to %+v (%v), want main.park", g.ID, frames, err)
		}
	}
	if parked != 10000 || notYet > 8 {
		t.Errorf("%d goroutines started in main.park, want 10000; %d not parked yet, want at most 8", parked, notYet)
	}
}
