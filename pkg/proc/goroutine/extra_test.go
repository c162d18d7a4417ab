package goroutine_test

import (
	"maps"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/stack/stacktest"
)

// waitReasonChanReceive and waitReasonSleep are Go 1.26's numbers for a
// goroutine blocked receiving from a channel and one in time.Sleep.
const (
	waitReasonChanReceive = 19
	waitReasonSleep       = 14
)

// TestExtraAndLabels stops svcgoroutines in main.ready, where the worker
// started under pprof.Do(role=worker) is parked receiving, and reads the
// wait reason and labels of the worker and of goroutine 1 (waitsince
// is set only by a GC that scans a parked stack, so it is not compared).
func TestExtraAndLabels(t *testing.T) {
	testenv.RequirePtrace(t)
	s := stacktest.Launch(t, fixture.Build(t, "svcgoroutines", fixture.Flavour{}))
	s.BreakAt("main.ready")
	s.ContinueN(1)
	d, err := s.Bin.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	types := godwarf.New(d)
	layout := goroutine.NewExtraLayout(s.Bin, types)
	gs, err := goroutine.List(s.Bin, s.Proc)
	if err != nil {
		t.Fatal(err)
	}
	var workers int
	for _, g := range gs {
		ex := layout.ReadExtra(s.Proc, g)
		labels := goroutine.Labels(s.Proc, types, nil, ex.Labels)
		switch {
		case g.ID == 1:
			// The runtime leaves waitreason alone when a goroutine wakes:
			// main's is still its time.Sleep's.
			if g.Status != goroutine.StatusRunning || ex.WaitReason != waitReasonSleep || ex.Labels != 0 || labels != nil {
				t.Errorf("goroutine 1: status %v extra %+v labels %v", g.Status, ex, labels)
			}
		case labels != nil:
			workers++
			if !maps.Equal(labels, map[string]string{"role": "worker"}) || g.Status != goroutine.StatusWaiting ||
				ex.WaitReason != waitReasonChanReceive {
				t.Errorf("worker %d: status %v extra %+v labels %v", g.ID, g.Status, ex, labels)
			}
		}
	}
	if workers != 1 {
		t.Fatalf("%d goroutines with labels, want the one worker", workers)
	}
	if none := goroutine.NewExtraLayout(nil, nil).ReadExtra(s.Proc, gs[0]); none != (goroutine.Extra{}) {
		t.Errorf("extra without a layout: %+v", none)
	}
}
