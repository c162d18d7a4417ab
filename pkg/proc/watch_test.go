package proc_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc"
)

// TestWatchpointOnLaterThread sets a watchpoint, then lets the program
// start threads: the write happens on one created after the watchpoint
// was set, which still traps, after the write, with both values.
func TestWatchpointOnLaterThread(t *testing.T) {
	tg := launch(t, "watch", fixture.Flavour{})
	mustBreakFunc(t, tg, "main.onNewThreads")
	st, err := tg.Continue()
	want(t, "continue to onNewThreads", st, err, proc.StopBreakpoint, "main.onNewThreads", 49)
	before := map[int]bool{}
	ths, err := tg.Threads()
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range ths {
		before[th.ID] = true
	}
	addr := func(name string) uint64 {
		v, err := tg.BinInfo().LookupPackageVar(name)
		if err != nil {
			t.Fatal(err)
		}
		return v.Addr
	}
	wp, err := tg.SetWatchpoint("late", proc.WatchWrite, addr("main.late"), 4, nil)
	if err != nil {
		t.Fatalf("watch late: %v", err)
	}
	for _, name := range []string{"main.counter", "main.sink", "main.readme"} {
		if _, err := tg.SetWatchpoint(name, proc.WatchWrite, addr(name), 8, nil); err != nil {
			t.Fatalf("watch %s: %v", name, err)
		}
	}
	_, err = tg.SetWatchpoint("small", proc.WatchWrite, addr("main.small"), 2, nil)
	if !errors.Is(err, proc.ErrWatchSlotsExhausted) || err.Error() != "hardware breakpoints exhausted" {
		t.Fatalf("fifth watchpoint: %v, want Delve's refusal", err)
	}
	if _, err := tg.SetWatchpoint("x", proc.WatchRead, addr("main.small"), 2, &proc.WatchScope{}); err == nil || err.Error() != "can not watch stack allocated variable for reads" {
		t.Fatalf("read watch on the stack: %v", err)
	}

	st, err = tg.Continue()
	want(t, "continue to the write", st, err, proc.StopBreakpoint, "main.onNewThreads.func2", 63)
	if st.Breakpoint != wp || wp.TotalHitCount != 1 {
		t.Fatalf("stopped on %+v (hits %d), want the watchpoint's first hit", st.Breakpoint, wp.TotalHitCount)
	}
	if before[st.ThreadID] {
		t.Errorf("the write ran on thread %d, which existed when the watchpoint was set (%v)", st.ThreadID, before)
	}
	if st.Watch == nil || binary.LittleEndian.Uint32(st.Watch.Old) != 0 || binary.LittleEndian.Uint32(st.Watch.New) != 42 {
		t.Fatalf("values %+v, want 0 then 42", st.Watch)
	}
	if err := tg.ClearBreakpoint(wp.ID); err != nil {
		t.Fatal(err)
	}
	continueToExit(t, tg)
}
