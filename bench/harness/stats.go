package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// stat summarises repeated measurements: the median, and the spread as the
// smallest and largest value seen.
type stat struct {
	med, min, max float64
	n             int
}

func summarize(xs []float64) stat {
	if len(xs) == 0 {
		return stat{med: math.NaN(), min: math.NaN(), max: math.NaN()}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{med: med, min: s[0], max: s[len(s)-1], n: len(s)}
}

// percentile returns the p-th percentile (0..100) of xs by nearest rank.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}

// secs formats a duration given in seconds with a unit that keeps three
// significant digits readable.
func secs(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	a := math.Abs(v)
	switch {
	case a >= 1:
		return fmt.Sprintf("%.3g s", v)
	case a >= 1e-3:
		return fmt.Sprintf("%.3g ms", v*1e3)
	case a >= 1e-6:
		return fmt.Sprintf("%.3g µs", v*1e6)
	default:
		return fmt.Sprintf("%.3g ns", v*1e9)
	}
}

// mib formats KiB as MiB.
func mib(kib float64) string {
	if math.IsNaN(kib) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", kib/1024)
}

// spread formats a stat as "median (min–max)" with the given formatter.
func spread(s stat, f func(float64) string) string {
	if s.n == 0 {
		return "n/a"
	}
	if s.n == 1 {
		return f(s.med)
	}
	return fmt.Sprintf("%s (%s – %s)", f(s.med), f(s.min), f(s.max))
}

// ratio formats a/b as "0.42×", or n/a when either side is missing.
func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.3g×", a/b)
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// table renders a Markdown table.
func table(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}
