package debugger_test

import (
	"errors"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// TestKernelCondModes: a condition that compiles runs in the kernel and
// the API says so; on a machine without BPF permission the same
// condition stops to evaluate, says why, and still stops only where it
// holds, with the hit counts of the kernel way.
func TestKernelCondModes(t *testing.T) {
	testenv.RequireRoot(t)
	for _, c := range []struct {
		name, mode string
		perm       error
	}{
		{"kernel", "in kernel", nil},
		{"no permission", "stops to evaluate: no eBPF: no BPF here", errors.New("no BPF here")},
	} {
		t.Run(c.name, func(t *testing.T) {
			restore := debugger.SetCheckBPF(func() error { return c.perm })
			defer restore()
			d := launch(t, "condloop", fixture.Flavour{})
			bp, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.hot", Cond: "i == 5"}, "")
			if err != nil {
				t.Fatal(err)
			}
			if bp.CondEval != c.mode {
				t.Fatalf("mode %q, want %q", bp.CondEval, c.mode)
			}
			st := run(t, d, api.Continue)
			at(t, st, "main.hot", 23)
			got, err := d.GetBreakpoint(bp.ID, "")
			if err != nil || got.TotalHitCount != 1 || len(got.HitCount) != 1 || got.CondEval != c.mode {
				t.Fatalf("after the hit: %+v, %v", got, err)
			}
		})
	}
}

// TestKernelCondInlinedCopies: main.half has three addresses (its
// out-of-line copy and the copies inlined into first and second, called
// with 10, 20 and 30 through sink); a condition on x runs in the kernel at
// each of them, with x located there as DWARF says, and each address stops
// only when it holds there. The stops are those of the stopping
// evaluator, and the API shows each breakpoint's mode.
func TestKernelCondInlinedCopies(t *testing.T) {
	testenv.RequireRoot(t)
	for _, c := range []struct {
		cond, stops string
		hits        uint64
	}{
		{"x == 10", "main.first:6/main.half @exit 0", 1},
		{"x == 20", "main.second:6/main.half @exit 0", 1},
		{"x == 30", "main.half:6 @exit 0", 1},
		{"x != 20", "main.first:6/main.half main.half:6 @exit 0", 2},
		{"x > 100", "@exit 0", 0},
	} {
		for _, m := range []struct {
			mode string
			perm error
		}{
			{"in kernel", nil},
			{"stops to evaluate: no eBPF: no BPF here", errors.New("no BPF here")},
		} {
			t.Run(c.cond+"/"+m.mode, func(t *testing.T) {
				restore := debugger.SetCheckBPF(func() error { return m.perm })
				defer restore()
				d := launch(t, "inlinedtwice", fixture.Flavour{Optimized: true})
				locs, err := d.FindLocation(-1, 0, "main.half")
				if err != nil || len(locs) != 1 || len(locs[0].PCs) != 3 {
					t.Fatalf("find main.half: %+v %v", locs, err)
				}
				bp, err := d.CreateBreakpoint(api.Breakpoint{Addr: locs[0].PC, Addrs: locs[0].PCs, Cond: c.cond}, "")
				if err != nil || len(bp.Addrs) != 3 || bp.CondEval != m.mode {
					t.Fatalf("break: %+v %v; want 3 addresses, mode %q", bp, err, m.mode)
				}
				if got := stops(t, d); got != c.stops {
					t.Fatalf("stops: %s, want %s", got, c.stops)
				}
				got, err := d.GetBreakpoint(bp.ID, "")
				if err != nil || got.TotalHitCount != c.hits || got.CondEval != m.mode {
					t.Fatalf("after the run: %+v %v; want %d hits, mode %q", got, err, c.hits, m.mode)
				}
			})
		}
	}
}
