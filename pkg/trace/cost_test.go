package trace

import (
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc/ebpf"
)

// costOf checks that a trace measured its cost from the source its
// backend has, with one probe run per event, and returns the summary with
// the cost zeroed so that the rest compares exactly.
func costOf(t *testing.T, sum Summary) Summary {
	t.Helper()
	want := CostPtraceHandler
	if sum.Backend == "ebpf" {
		want = CostBPFRunTime
	}
	if c := sum.Cost; c.Source != want || c.Hits != sum.Events || (c.Hits > 0 && c.Time <= 0) {
		t.Fatalf("cost %+v of %d events, want %d hits from %q", c, sum.Events, sum.Events, want)
	}
	sum.Cost = Cost{}
	sum.memo = ebpf.MemoStats{} // how often text was reused is not the summary's
	return sum
}

// TestCostLine: each backend's line names what it measured.
func TestCostLine(t *testing.T) {
	for _, tc := range []struct {
		sum  Summary
		want string
	}{
		{Summary{Backend: "ptrace", Events: 4, Cost: Cost{Source: CostPtraceHandler, Hits: 4, Time: 10 * time.Microsecond}},
			"trace: cost: threads stopped 10µs in 4 probe hits, 2.5µs per event (" + CostPtraceHandler + ")"},
		{Summary{Backend: "ebpf", Events: 3, Holds: 2, Held: 1500 * time.Microsecond, Cost: Cost{Source: CostBPFRunTime, Hits: 3, Time: 900}},
			"trace: cost: program held 2 times for 1.5ms (lossless); BPF program ran 900ns in 3 probe hits, 300ns per event (" + CostBPFRunTime + ")"},
		{Summary{Backend: "ebpf", Events: 1, Cost: Cost{Source: CostBPFRunTime, Hits: 1, Time: 2_345_678, Lossy: true}},
			"trace: cost: program never held (--lossy); BPF program ran 2.346ms in 1 probe hit, 2.346ms per event (" + CostBPFRunTime + ")"},
		// A condition filtered 18 of 28 calls: the cost is over the 10 events.
		{Summary{Backend: "ptrace", Events: 10, Cost: Cost{Source: CostPtraceHandler, Hits: 28, Time: 42 * time.Millisecond}},
			"trace: cost: threads stopped 42ms in 28 probe hits, 4.2ms per event over the 10 events (" + CostPtraceHandler + ")"},
		{Summary{Backend: "ebpf", Cost: Cost{Missing: "enabling BPF run-time statistics: operation not permitted"}},
			"trace: cost: program held 0 times for 0s (lossless); BPF run time not measured: enabling BPF run-time statistics: operation not permitted"},
	} {
		if got := tc.sum.CostLine(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}
