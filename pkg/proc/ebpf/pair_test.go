package ebpf

import "testing"

// TestPairerSweepKeepsOpenCalls runs more goroutines through the pairer
// than it keeps idle: the sweep must forget finished goroutines and no
// goroutine's open call, whose return then pairs with its duration.
func TestPairerSweepKeepsOpenCalls(t *testing.T) {
	p := newPairer()
	// Goroutine 1 stays inside a call the whole time.
	if d := p.call(1, 0, 512, 100); d != 0 {
		t.Fatalf("depth %d", d)
	}
	for g := uint64(2); g < 10*minSweep; g++ {
		p.call(g, 0, 256, 200)
		if ns, _, ok := p.ret(g, 0, 256, 250); !ok || ns != 50 {
			t.Fatalf("goroutine %d: %d ns, paired %v", g, ns, ok)
		}
	}
	if len(p.open) > 2*minSweep+2 {
		t.Fatalf("%d goroutines kept after their calls returned", len(p.open))
	}
	// A recursive call, deeper in the stack, counts the open one.
	if d := p.call(1, 0, 768, 300); d != 1 {
		t.Fatalf("recursive depth %d, want 1", d)
	}
	if ns, d, ok := p.ret(1, 0, 768, 310); !ok || ns != 10 || d != 1 {
		t.Fatalf("inner return: %d ns depth %d paired %v", ns, d, ok)
	}
	if ns, d, ok := p.ret(1, 0, 512, 1000); !ok || ns != 900 || d != 0 {
		t.Fatalf("outer return: %d ns depth %d paired %v", ns, d, ok)
	}
	// A return whose call was never seen is unpaired, and a later call
	// nearer the stack top abandons the open one deeper down.
	if _, _, ok := p.ret(7, 0, 128, 5); ok {
		t.Fatal("a return without its call paired")
	}
	p.call(8, 0, 128, 1)
	before := p.abandoned
	p.call(8, 0, 64, 2)
	if p.abandoned != before+1 {
		t.Fatalf("abandoned %d, want %d", p.abandoned, before+1)
	}
}
