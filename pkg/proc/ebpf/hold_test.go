package ebpf

import (
	"os"
	"runtime"
	"testing"
)

// TestLosslessRingMargin: above the high-water mark the ring keeps room
// for the records of every thread that may be inside a probe, the mark is
// past the low-water mark (the wake-up threshold) and the ring is never
// smaller than asked.
func TestLosslessRingMargin(t *testing.T) {
	for _, threads := range []int{1, 500} {
		inflight := inflightPerCPU * (max(runtime.NumCPU(), threads) + 8) * maxRecord
		for _, req := range []int{1, 4096, 1 << 20, 8 << 20, 64 << 20} {
			ring, mark := losslessRing(req, threads)
			if ring < req || ring&(ring-1) != 0 || ring%4096 != 0 {
				t.Errorf("request %d: ring %d, want a power of two of pages, at least the request", req, ring)
			}
			if ring-mark < inflight || ring-mark < ring/4 || mark < ring/2 || mark <= ring/wakeFraction {
				t.Errorf("%d threads, request %d: ring %d, mark %d: margin %d, want at least %d and a quarter, mark past half and the wake-up at %d",
					threads, req, ring, mark, ring-mark, inflight, ring/wakeFraction)
			}
		}
	}
	if n := threadCount(os.Getpid()); n < 2 {
		t.Errorf("this test process has %d threads, want the Go runtime's several", n)
	}
	if maxRecord != 8+eventHeaderSize+maxData || maxRecord%8 != 0 {
		t.Errorf("maxRecord %d, want the record header, the event header and a full data area (%d)", maxRecord, 8+eventHeaderSize+maxData)
	}
}
