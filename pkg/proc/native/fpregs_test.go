package native

import (
	"fmt"
	"math"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc"
)

// TestFPRegisters stops at the entry of fpArgs(pi, -2.5), reads the two
// float64 arguments from X0 and X1 bit for bit, then replaces b and checks
// that the program computes with the new value.
func TestFPRegisters(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	exe := fixture.Build(t, "fpregs", fixture.Flavour{Optimized: true})
	r, w := pipe(t)
	p := launch(t, LaunchConfig{Path: exe, Stdout: w, DisableASLR: true})
	w.Close()

	addr := symbol(t, exe, "main.fpArgs")
	orig := textBytes(t, exe, addr, 1)
	if _, err := p.WriteMemory(addr, []byte{0xCC}); err != nil {
		t.Fatal(err)
	}
	th := continueTo(t, p, proc.StopKindTrap).Trapped[0]
	fp, err := th.FPRegisters()
	if err != nil {
		t.Fatalf("FPRegisters: %v", err)
	}
	if got := fp.Low64(0); got != 0x400921fb54442d18 {
		t.Errorf("X0 low = %#x, want pi 0x400921fb54442d18", got)
	}
	if got := fp.Low64(1); got != math.Float64bits(-2.5) {
		t.Errorf("X1 low = %#x, want -2.5 %#x", got, math.Float64bits(-2.5))
	}
	// Go's runtime never changes the default rounding and exception masks.
	if fp.Mxcsr&0xffc0 != 0x1f80 {
		t.Errorf("MXCSR = %#x, want default masks 0x1f80", fp.Mxcsr)
	}

	fp.Xmm[1] = [16]byte{}
	half := math.Float64bits(0.5)
	for i := 0; i < 8; i++ {
		fp.Xmm[1][i] = byte(half >> (8 * i))
	}
	if err := th.SetFPRegisters(fp); err != nil {
		t.Fatalf("SetFPRegisters: %v", err)
	}
	back, err := th.FPRegisters()
	if err != nil || back != fp {
		t.Fatalf("read back after set: %v, equal %v", err, back == fp)
	}
	if _, err := p.WriteMemory(addr, orig); err != nil {
		t.Fatal(err)
	}
	if err := th.SetPC(addr); err != nil {
		t.Fatal(err)
	}
	continueTo(t, p, proc.StopKindExited)
	out, _ := bufioReadAll(r)
	want := fmt.Sprintf("%#x\n8.75\n", math.Float64bits(math.Pi+0.5))
	if out != want {
		t.Fatalf("program output %q, want %q", out, want)
	}
}

// BenchmarkFPRegisters measures the extra ptrace request a float variable
// costs, next to the general registers every stop reads.
func BenchmarkFPRegisters(b *testing.B) {
	testenv.RequirePtrace(b)
	exe := fixture.Build(b, "fpregs", fixture.Flavour{Optimized: true})
	p, err := Launch(LaunchConfig{Path: exe, DisableASLR: true})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Kill()
	th := p.Threads()[0]
	b.Run("general", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := th.Registers(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fp", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := th.FPRegisters(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
