package proc_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/pkg/proc"
)

// TestKernelHitCountTotalRace: four goroutines hammer one breakpoint whose
// hit condition is on the total; the kernel numbers each hit with a
// fetching add, so exactly one thread stops, once, for each K — a total
// read back after a plain add lets two threads hitting together see the
// same number and the K-th hit go by without a stop.
func TestKernelHitCountTotalRace(t *testing.T) {
	const n, g = 20000, 4
	for _, k := range []uint64{1, 2, 3, 4, 1000, 40001, 79999, 80000} {
		tg := launchCfg(t, "condloop", proc.LaunchConfig{}, "20000", "4")
		bp := mustBreakFunc(t, tg, "main.hot")
		bp.HitCond = &proc.HitCondition{Op: "==", N: k}
		kc, err := tg.NewKernelCond(nil, "", fileOffset(tg))
		if err != nil {
			t.Fatal(err)
		}
		if err := tg.SetKernelCond(bp, kc); err != nil {
			t.Fatal(err)
		}
		stops, onBP := 0, 0
		for {
			st, err := tg.Continue()
			if err != nil {
				t.Fatalf("K=%d: %v", k, err)
			}
			if st.Reason == proc.StopExited {
				if st.ExitCode != 0 {
					t.Fatalf("K=%d: exit %d", k, st.ExitCode)
				}
				break
			}
			want(t, "continue", st, err, proc.StopBreakpoint, "main.hot", 23)
			stops++
			if bp.TotalHitCount < k {
				t.Fatalf("K=%d: stopped with total %d", k, bp.TotalHitCount)
			}
			ths, err := tg.Threads()
			if err != nil {
				t.Fatal(err)
			}
			for _, th := range ths {
				if th.Breakpoint == bp {
					onBP++
				}
			}
		}
		if stops != 1 || onBP != 1 || bp.TotalHitCount != n*g {
			t.Fatalf("K=%d: %d stops, %d threads on the breakpoint, total %d (want 1, 1, %d)",
				k, stops, onBP, bp.TotalHitCount, n*g)
		}
	}
}
