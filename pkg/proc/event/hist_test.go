package event_test

import (
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// TestBucketBounds: every bucket's bounds map back to it, buckets tile
// the values without gaps, and a few values land where the scheme says
// (the kernel's stats_bucket computes the same, see pkg/proc/ebpf).
func TestBucketBounds(t *testing.T) {
	last := event.BucketOf(^uint64(0))
	if last != 495 || last >= event.Buckets {
		t.Fatalf("largest bucket %d", last)
	}
	next := uint64(0)
	for i := 0; i <= last; i++ {
		lo, hi := event.BucketBounds(i)
		if lo != next || hi < lo || event.BucketOf(lo) != i || event.BucketOf(hi) != i {
			t.Fatalf("bucket %d: [%d, %d], want it to start at %d", i, lo, hi, next)
		}
		next = hi + 1
	}
	for ns, want := range map[uint64]int{0: 0, 15: 15, 16: 16, 17: 16, 18: 17, 31: 23, 32: 24, 1000: 16 + 5*8 + 7, 1 << 20: 16 + 16*8} {
		if got := event.BucketOf(ns); got != want {
			t.Errorf("BucketOf(%d) = %d, want %d", ns, got, want)
		}
	}
}

// TestQuantileIsBucketTop: percentiles are the top of their bucket, never
// above the exact maximum.
func TestQuantileIsBucketTop(t *testing.T) {
	var h event.Histogram
	for i := 0; i < 99; i++ {
		h.Add(1000 * time.Nanosecond) // bucket [960, 1023]
	}
	h.Add(5000 * time.Nanosecond) // bucket [4608, 5119]
	if got := h.Quantile(0.5); got != 1023 {
		t.Errorf("p50 %d", got)
	}
	if got := h.Quantile(0.99); got != 1023 {
		t.Errorf("p99 %d", got)
	}
	if got := h.Quantile(1); got != 5000 {
		t.Errorf("p100 %d, want the exact max", got)
	}
	if h.Count() != 100 || h.Max != 5000 {
		t.Errorf("count %d max %d", h.Count(), h.Max)
	}
}
