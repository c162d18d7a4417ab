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
