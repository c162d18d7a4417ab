package trace

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// statsHeader explains the columns once per table: percentiles come from
// histogram buckets, so they are upper bounds, and only max is exact.
const statsHeader = "percentiles are bucket bounds (\"p99 ≤ 1.02ms\": 99% of paired calls took at most that; buckets are ≤12.5% wide); max is exact"

// writeStats writes one table: the functions that were called or
// returned, most called first, then a line for the rest. A writer from
// StatsJSON gets the table as JSON.
func writeStats(w io.Writer, when string, r StatsResult) error {
	if j, ok := w.(*statsJSON); ok {
		return writeStatsJSON(j.w, when, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stats (%s, backend %s): %s\n", when, r.Summary.Backend, statsHeader)
	rows := statsRows(r)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "calls\tpaired\tp50\tp90\tp99\tmax\tunpaired\topen\tlost\t function\n")
	for _, f := range rows {
		h := &f.Hist
		n := h.Count()
		q := func(p float64) string {
			if n == 0 {
				return "-"
			}
			return "≤ " + shortDuration(h.Quantile(p), true)
		}
		mx := "-"
		if n > 0 {
			mx = h.Max.String()
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t %s\n", f.Calls, n, q(0.5), q(0.9), q(0.99), mx, f.Unpaired, f.Open, f.Lost, f.Function)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if idle := len(r.Funcs) - len(rows); idle > 0 {
		fmt.Fprintf(&b, "%s not called\n", plural(idle, "function"))
	}
	if r.ReadErr != nil {
		fmt.Fprintf(&b, "figures incomplete: %v\n", r.ReadErr)
	}
	if r.Missed > 0 {
		fmt.Fprintf(&b, "%s skipped by the kernel (another BPF program was running on the CPU): not in the figures\n", plural(int(r.Missed), "probe hit"))
	}
	if r.Inlined > 0 {
		fmt.Fprintf(&b, "%d inlined copies of matching functions not counted: they have no frame of their own to pair by\n", r.Inlined)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// statsRows are the functions a table lists: those called or returned,
// most called first.
func statsRows(r StatsResult) []FuncStats {
	rows := make([]FuncStats, 0, len(r.Funcs))
	for _, f := range r.Funcs {
		if f.Calls > 0 || f.Unpaired > 0 {
			rows = append(rows, f)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Calls != rows[j].Calls {
			return rows[i].Calls > rows[j].Calls
		}
		return rows[i].Function < rows[j].Function
	})
	return rows
}

// shortDuration prints d with three significant digits: 850ns, 12.3µs,
// 1.02ms; up rounds up, as an upper bound must be.
func shortDuration(d time.Duration, up bool) string {
	units := []struct {
		name string
		size time.Duration
	}{{"s", time.Second}, {"ms", time.Millisecond}, {"µs", time.Microsecond}}
	for _, u := range units {
		if d < u.size {
			continue
		}
		v := float64(d) / float64(u.size)
		digits := 2
		switch {
		case v >= 100:
			digits = 0
		case v >= 10:
			digits = 1
		}
		if up {
			scale := math.Pow(10, float64(digits))
			v = math.Ceil(v*scale-1e-9) / scale
		}
		return strconv.FormatFloat(v, 'f', digits, 64) + u.name
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}
