package trace

import (
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// TestStatsTable: the most called function first, percentiles as the
// rounded-up top of their bucket (never above max), max exact, the
// functions never called and the inlined copies counted on their own lines.
func TestStatsTable(t *testing.T) {
	var h event.Histogram
	for i := 0; i < 98; i++ {
		h.Add(1000 * time.Nanosecond) // bucket [960ns, 1023ns]
	}
	h.Add(3 * time.Millisecond)      // [2.883584ms, 3.145727ms]
	h.Add(3100123 * time.Nanosecond) // same bucket, the max
	res := StatsResult{Summary: Summary{Backend: "ebpf"}, Inlined: 2, Missed: 1, Funcs: []FuncStats{
		{Function: "main.idle"},
		{Function: "main.rare", Calls: 1, Open: 1},
		{Function: "main.hot", Calls: 101, Hist: h, Unpaired: 3, Open: 1},
	}}
	var b strings.Builder
	if err := writeStats(&b, "final", res); err != nil {
		t.Fatal(err)
	}
	want := `stats (final, backend ebpf): ` + statsHeader + `
  calls  paired       p50       p90       p99         max  unpaired  open  lost function
    101     100  ≤ 1.03µs  ≤ 1.03µs  ≤ 3.11ms  3.100123ms         3     1     0 main.hot
      1       0         -         -         -           -         0     1     0 main.rare
1 function not called
1 probe hit skipped by the kernel (another BPF program was running on the CPU): not in the figures
2 inlined copies of matching functions not counted: they have no frame of their own to pair by
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	for d, want := range map[time.Duration]string{850: "850ns", 1023: "1.03µs", 1020: "1.02µs", 12345 * time.Microsecond: "12.4ms", 999 * time.Millisecond: "999ms", 1500 * time.Millisecond: "1.50s"} {
		if got := shortDuration(d, true); got != want {
			t.Errorf("shortDuration(%d) = %s, want %s", d, got, want)
		}
	}
}
