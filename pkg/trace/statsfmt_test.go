package trace

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// statsTableInput is a table with a busy function (two buckets, one of
// them holding the max), a function in flight, one never called, a
// skipped probe hit and inlined copies.
func statsTableInput() StatsResult {
	var h event.Histogram
	for i := 0; i < 98; i++ {
		h.Add(1000 * time.Nanosecond) // bucket [960ns, 1023ns]
	}
	h.Add(3 * time.Millisecond)      // [2.883584ms, 3.145727ms]
	h.Add(3100123 * time.Nanosecond) // same bucket, the max
	return StatsResult{Summary: Summary{Backend: "ebpf"}, Inlined: 2, Missed: 1, Funcs: []FuncStats{
		{Function: "main.idle"},
		{Function: "main.rare", Calls: 1, Open: 1},
		{Function: "main.hot", Calls: 101, Hist: h, Unpaired: 3, Open: 1},
	}}
}

// TestStatsJSON: the same rows as the table, one object per line, with
// exact nanoseconds: percentiles the top of their bucket (p99 the max,
// below its bucket's top), the non-empty buckets with their bounds.
func TestStatsJSON(t *testing.T) {
	var b strings.Builder
	res := statsTableInput()
	res.ReadErr = errors.New("reading the histogram map: EPERM")
	w := StatsJSON(&b)
	if err := writeStats(w, "interval", res); err != nil {
		t.Fatal(err)
	}
	if err := writeStats(w, "final", statsTableInput()); err != nil {
		t.Fatal(err)
	}
	hot := `{"function":"main.hot","calls":101,"paired":100,"unpaired":3,"open":1,"lost":0,` +
		`"latency":{"p50_ns":1023,"p90_ns":1023,"p99_ns":3100123,"max_ns":3100123,"sum_ns":6198123,` +
		`"buckets":[{"lo_ns":960,"hi_ns":1023,"count":98},{"lo_ns":2883584,"hi_ns":3145727,"count":2}]}}`
	rare := `{"function":"main.rare","calls":1,"paired":0,"unpaired":0,"open":1,"lost":0}`
	want := `{"stats":"interval","backend":"ebpf","functions":[` + hot + `,` + rare + `],"not_called":1,"missed":1,"inlined":2,"incomplete":"reading the histogram map: EPERM"}
{"stats":"final","backend":"ebpf","functions":[` + hot + `,` + rare + `],"not_called":1,"missed":1,"inlined":2}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestStatsTable: the most called function first, percentiles as the
// rounded-up top of their bucket (never above max), max exact, the
// functions never called and the inlined copies counted on their own lines.
func TestStatsTable(t *testing.T) {
	var b strings.Builder
	if err := writeStats(&b, "final", statsTableInput()); err != nil {
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
