package goroutine_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/stack/stacktest"
)

// TestStacktraceFPIsLazy stops at the entry of the optimized fpregs
// fixture's fpArgs(pi, -2.5), whose arguments arrive in X0 and X1.
// Unwinding and reading general registers must not read the XMM
// registers; the first XMM read loads them once, for frame 0 only.
func TestStacktraceFPIsLazy(t *testing.T) {
	testenv.RequirePtrace(t)
	s := stacktest.Launch(t, fixture.Build(t, "fpregs", fixture.Flavour{Optimized: true}))
	s.BreakAt("main.fpArgs")
	hit := s.ContinueN(1)
	g, err := goroutine.Current(s.Bin, s.Proc, &hit.Regs)
	if err != nil || g == nil || g.ID != 1 {
		t.Fatalf("current goroutine %+v %v", g, err)
	}
	loads := 0
	load := func() (arch.FPRegisters, error) {
		loads++
		return hit.Thread.FPRegisters()
	}
	frames, err := goroutine.StacktraceFP(stack.New(s.Bin), s.Proc, g, &hit.Regs, load, 2)
	if len(frames) != 2 || frames[0].Func.Name != "main.fpArgs" || frames[1].Func.Name != "main.main" {
		t.Fatalf("frames %s (%v)", summary(frames), err)
	}
	if _, err := frames[0].Regs.RegBytes(regnum.Rsp); err != nil || loads != 0 {
		t.Fatalf("unwinding and reading RSP loaded the XMM registers %d times (%v)", loads, err)
	}
	for i := 0; i < 2; i++ {
		x0, err := frames[0].Regs.RegBytes(regnum.Xmm0)
		x1, err1 := frames[0].Regs.RegBytes(regnum.Xmm0 + 1)
		if err != nil || err1 != nil || len(x0) != 16 || len(x1) != 16 {
			t.Fatalf("X0: %x %v, X1: %x %v", x0, err, x1, err1)
		}
		if a := binary.LittleEndian.Uint64(x0); a != 0x400921fb54442d18 {
			t.Fatalf("X0 holds %#x, want pi's bits", a)
		}
		if b := math.Float64frombits(binary.LittleEndian.Uint64(x1)); b != -2.5 {
			t.Fatalf("X1 holds %v, want -2.5", b)
		}
	}
	if loads != 1 {
		t.Fatalf("XMM registers loaded %d times, want 1", loads)
	}
	if _, err := frames[1].Regs.RegBytes(regnum.Xmm0); err == nil {
		t.Fatal("the caller frame claims to know X0, which Go calls do not preserve")
	}
}
