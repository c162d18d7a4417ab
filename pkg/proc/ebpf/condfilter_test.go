package ebpf

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf/cond"
)

// TestTraceCondition traces condhot with --if conditions: only the calls
// whose condition holds reach user space, each with its own return, and
// the filtered and faulted calls are counted. condhot calls main.hot(i,
// ...) for i in [0, 64), and hot calls main.mark(i).
func TestTraceCondition(t *testing.T) {
	requireBPF(t)
	for _, fl := range []fixture.Flavour{{}, {Optimized: true}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			path := fixture.Build(t, "condhot", fl)
			pass := func(i int) bool { return i%8 == 3 || i > 60 }
			traceCond(t, path, []string{"main.hot", "main.mark"}, "i%8 == 3 || i > 60", func(i int) int { return b2r(pass(i)) })
			// Package variables, read at their run-time addresses (PIE):
			// main sets gCount = 2*i and gName = strs[i%8] before each call.
			traceCond(t, path, []string{"main.hot"}, `gCount == 2*i && gName == "abc"`, func(i int) int { return b2r(i%8 == 2) })
			// p is nil when i%4 == 0 and invalid when i%4 == 1: reading
			// p.V faults; otherwise it is (i%6)*11 - 20.
			traceCond(t, path, []string{"main.hot"}, "i%8 == 3 || (i > 40 && p.V > 0)", func(i int) int {
				switch {
				case i%8 == 3:
					return cond.ResultTrue
				case i <= 40:
					return cond.ResultFalse
				case i%4 < 2:
					return cond.ResultFault
				}
				return b2r((i%6)*11-20 > 0)
			})
		})
	}
}

func b2r(b bool) int {
	if b {
		return cond.ResultTrue
	}
	return cond.ResultFalse
}

func traceCond(t *testing.T, path string, names []string, expr string, verdict func(int) int) {
	t.Helper()
	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	cmd, wr := testproc.StartWaiting(t, path, "CONDHOT_WAIT=1")
	// Functions take the load bias when first looked up.
	entry, err := AuxvEntry(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	bi.SetLoadBias(entry - bi.EntryPoint())
	tr, err := Open(bi, cmd.Process.Pid, lookupFuncs(t, bi, names...), Options{Condition: expr})
	if err != nil {
		t.Fatal(err)
	}
	res := collect(tr)
	if _, err := wr.WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("condhot: %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	evs := <-res
	var want, got []string
	var filtered, faults uint64
	for i := 0; i < 64; i++ {
		// names are nested calls: hot calls mark.
		switch verdict(i) {
		case cond.ResultTrue:
			for _, name := range names {
				want = append(want, fmt.Sprintf("call %s(%d)", name, i))
			}
			for k := len(names) - 1; k >= 0; k-- {
				want = append(want, "return "+names[k])
			}
		case cond.ResultFault:
			faults += uint64(len(names))
		default:
			filtered += uint64(len(names))
		}
	}
	calls := map[uint64]string{} // pairing: a return follows its own call
	for _, ev := range evs {
		if ev.Err != nil || ev.Unpaired {
			t.Errorf("%s %s: err %v, unpaired %v", ev.Kind, ev.Function, ev.Err, ev.Unpaired)
		}
		if ev.Kind == 0 {
			got = append(got, fmt.Sprintf("call %s(%s)", ev.Function, ev.Values[0].Var.Value))
			calls[uint64(ev.Goroutine)<<32|ev.StackOffset] = ev.Function
		} else {
			got = append(got, "return "+ev.Function)
			if calls[uint64(ev.Goroutine)<<32|ev.StackOffset] != ev.Function {
				t.Errorf("return of %s pairs with no call of it", ev.Function)
			}
		}
	}
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("--if %q: events\n%s\nwant\n%s", expr, g, w)
	}
	st := tr.Stats()
	if st.Filtered != filtered || st.CondFaults != faults || st.Dropped != 0 {
		t.Errorf("--if %q: filtered %d, faults %d, dropped %d; want %d, %d, 0", expr, st.Filtered, st.CondFaults, st.Dropped, filtered, faults)
	}
}

// TestTraceConditionRefused checks that a condition that cannot run in the
// kernel is an error naming the function and the reason, with nothing
// attached.
func TestTraceConditionRefused(t *testing.T) {
	path := fixture.Build(t, "condhot", fixture.Flavour{})
	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	_, err = Open(bi, 1, lookupFuncs(t, bi, "main.hot"), Options{Condition: "len(m) > 0"})
	if !errors.Is(err, cond.ErrNotCompilable) || !strings.Contains(err.Error(), "at main.hot") {
		t.Fatalf("Open with an uncompilable condition: %v", err)
	}
}
