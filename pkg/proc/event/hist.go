package event

import (
	"math/bits"
	"time"
)

// Latency histograms of `trace --stats`. The eBPF backend fills them in
// the kernel (stats_bucket in pkg/proc/ebpf/bpf/stats.h, which this file
// mirrors) and the ptrace backend in user space, so both report the same
// buckets. Values below 16 ns have a bucket each; above, every power of
// two is cut into 8 linear sub-buckets, so a bucket is at most 12.5% wide:
// percentiles read from it are bounds, never exact values.

// Buckets is the number of histogram buckets (the kernel's map holds
// more slots than are used, a power of two).
const Buckets = 512

const (
	exactBelow = 16
	subBits    = 3
)

// BucketOf is the bucket of a latency of ns nanoseconds.
func BucketOf(ns uint64) int {
	if ns < exactBelow {
		return int(ns)
	}
	e := bits.Len64(ns) - 1
	sub := int(ns>>(e-subBits)) & (1<<subBits - 1)
	return exactBelow + (e-4)<<subBits + sub
}

// BucketBounds is the smallest and largest latency, in nanoseconds, that
// bucket i holds.
func BucketBounds(i int) (lo, hi uint64) {
	if i < exactBelow {
		return uint64(i), uint64(i)
	}
	e := (i-exactBelow)>>subBits + 4
	sub := uint64((i - exactBelow) & (1<<subBits - 1))
	lo = (1<<subBits + sub) << (e - subBits)
	return lo, lo + 1<<(e-subBits) - 1
}

// Histogram counts the paired calls of one function by latency.
type Histogram struct {
	Counts [Buckets]uint64
	Max    time.Duration // exact
	Sum    time.Duration
}

// Add records one latency.
func (h *Histogram) Add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.Counts[BucketOf(uint64(d))]++
	h.Sum += d
	h.Max = max(h.Max, d)
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, n := range o.Counts {
		h.Counts[i] += n
	}
	h.Sum += o.Sum
	h.Max = max(h.Max, o.Max)
}

// Count is the number of latencies recorded.
func (h *Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Quantile returns an upper bound of the q-quantile (0 < q ≤ 1): the top
// of the bucket holding it, or Max when that is lower. It is 0 for an
// empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.999999999)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			_, hi := BucketBounds(i)
			return min(time.Duration(hi), h.Max)
		}
	}
	return h.Max
}

// FuncStats is what `trace --stats` reports of one function.
type FuncStats struct {
	Function string
	// Calls counts the entries seen; Hist the calls whose return was
	// paired with them, by latency.
	Calls uint64
	Hist  Histogram
	// Unpaired counts returns whose call was not seen (tracing started
	// mid-call) or not kept (Lost).
	Unpaired uint64
	// Open counts calls not yet returned when the figures were read: in
	// flight, or abandoned by a panic.
	Open uint64
	// Lost counts calls the backend could not keep for pairing (the eBPF
	// table of open calls was full).
	Lost uint64
}
