package proc_test

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// callThread returns the registers, SSE ones included, of the thread
// running goroutine goid.
func callThread(t *testing.T, tg *proc.Target, goid int64) (arch.Registers, arch.FPRegisters) {
	t.Helper()
	ths, err := tg.Threads()
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range ths {
		if th.GoroutineID == goid && th.LoadFP != nil {
			fp, err := th.LoadFP()
			if err != nil {
				t.Fatal(err)
			}
			return th.Regs, fp
		}
	}
	t.Fatalf("no thread runs goroutine %d", goid)
	return arch.Registers{}, arch.FPRegisters{}
}

// TestCallRestoresEveryRegister calls main.half(3) of the fncall fixture
// (position-dependent and PIE), argument and result in X0: the result is
// 1.5, and afterwards every general and SSE register is what it was
// (X0 included, which the call clobbered).
func TestCallRestoresEveryRegister(t *testing.T) {
	for _, fl := range basicFlavours {
		t.Run(fl.Name(), func(t *testing.T) {
			tg := launch(t, "fncall", fl)
			if _, err := tg.SetBreakpointLine(fixture.Source("fncall"), 83); err != nil {
				t.Fatal(err)
			}
			st, err := tg.Continue()
			want(t, "continue", st, err, proc.StopBreakpoint, "main.stop", 83)
			goid := tg.SelectedGoroutine()
			regs, fp := callThread(t, tg, goid)
			half, err := tg.Symbols().LookupFunc("main.half")
			if err != nil {
				t.Fatal(err)
			}
			var got float64
			req := proc.CallRequest{
				Goroutine: goid, Entry: half.Entry, FrameSize: 8 + 192,
				SetArgs: func(r *arch.Registers, f *arch.FPRegisters, sp uint64) error {
					binary.LittleEndian.PutUint64(f.Xmm[0][:], math.Float64bits(3))
					return nil
				},
				Returned: func(r *arch.Registers, f *arch.FPRegisters, sp uint64) error {
					got = math.Float64frombits(binary.LittleEndian.Uint64(f.Xmm[0][:]))
					return nil
				},
				Panicked: func(uint64) error { return errors.New("half panicked") },
			}
			st, err = tg.Call(req)
			want(t, "call main.half(3)", st, err, proc.StopCallReturned, "main.stop", 83)
			if st.Call == nil || st.Call.Err != nil || got != 1.5 {
				t.Fatalf("call main.half(3): %+v, result %v", st.Call, got)
			}
			after, afterFP := callThread(t, tg, goid)
			if after != regs {
				t.Errorf("registers after the call:\n%+v\nwant\n%+v", after, regs)
			}
			if afterFP != fp {
				t.Errorf("SSE registers after the call:\n%+v\nwant\n%+v", afterFP, fp)
			}
			if tg.CallInProgress() {
				t.Error("a call is still in progress")
			}
			continueToExit(t, tg)
		})
	}
}

func TestCallStopReasonName(t *testing.T) {
	if got := proc.StopCallReturned.String(); got != "call returned" {
		t.Fatalf("StopCallReturned is %q", got)
	}
}
