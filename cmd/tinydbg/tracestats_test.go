package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestTraceStatsCommand: --stats prints the table with its header and
// exact call counts, then the summary; flags it cannot honour are refused
// in one line before anything runs.
func TestTraceStatsCommand(t *testing.T) {
	testenv.RequireRoot(t)
	bin := fixture.Build(t, "blocklatency", fixture.Flavour{Optimized: true})
	for _, backend := range [][]string{{"--ebpf"}, nil} {
		name := "ptrace"
		if backend != nil {
			name = "ebpf"
		}
		t.Run(name, func(t *testing.T) {
			out, err := traceCLI(t, append(backend, "--stats", "-e", bin, `^main\.(block|recurse)$`)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			// The cost line comes last: what counting cost, measured.
			lines := withoutCost(t, out)
			row := regexp.MustCompile(`^ +(\d+) +(\d+) +≤ \S+ +≤ \S+ +≤ \S+ +\S+ +0 +0 +0 (main\.\w+)$`)
			var got []string
			for _, l := range lines {
				if m := row.FindStringSubmatch(l); m != nil {
					got = append(got, m[3]+" "+m[1]+" "+m[2])
				}
			}
			if len(lines) != 5 || lines[0] != "stats (final, backend "+name+"): percentiles are bucket bounds (\"p99 ≤ 1.02ms\": 99% of paired calls took at most that; buckets are ≤12.5% wide); max is exact" ||
				strings.Join(got, ", ") != "main.block 40 40, main.recurse 12 12" ||
				!strings.HasSuffix(lines[4], ", 4 probes on 2 functions, backend "+name+"; program exited with status 0") {
				t.Fatalf("output:\n%s", out)
			}
		})
	}
	// The fixture runs for over 100ms: a 5ms interval prints tables while
	// it runs, each with the same header, and the final one comes last.
	out, err := traceCLI(t, "--ebpf", "--stats", "--interval", "5ms", "-e", bin, `^main\.block$`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	iv, fin := strings.Count(out, "stats (interval, backend ebpf)"), strings.LastIndex(out, "stats (final, backend ebpf)")
	if iv == 0 || fin < strings.LastIndex(out, "stats (interval") || !strings.Contains(out[fin:], " 40      40 ") {
		t.Fatalf("%d interval tables, output:\n%s", iv, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--interval", "1s", "-e", bin, "main.block"}, "--interval needs --stats"},
		{[]string{"--stats", "--format", "graph", "-e", bin, "main.block"}, `--stats prints its figures as text or json, not --format "graph"`},
		{[]string{"--stats", "--perfetto", "x.json", "-e", bin, "main.block"}, "--perfetto does not apply to --stats, which prints a table of figures instead of events"},
		{[]string{"--stats", "--interval", "-1s", "-e", bin, "main.block"}, "--interval must be 0 or more, got -1s"},
	} {
		if out, err := traceCLI(t, c.args...); err == nil || err.Error() != c.want || out != "" {
			t.Errorf("%v: error %v, output %q; want %q", c.args, err, out, c.want)
		}
	}
}

// statsObject is the part of a --stats --format json object the test reads.
type statsObject struct {
	Stats     string
	Backend   string
	Functions []struct {
		Function             string
		Calls, Paired        uint64
		Unpaired, Open, Lost uint64
		Latency              *struct {
			P50ns   int64 `json:"p50_ns"`
			P90ns   int64 `json:"p90_ns"`
			P99ns   int64 `json:"p99_ns"`
			MaxNs   int64 `json:"max_ns"`
			Buckets []struct {
				Lo    uint64 `json:"lo_ns"`
				Hi    uint64 `json:"hi_ns"`
				Count uint64
			}
		}
	}
	NotCalled int `json:"not_called"`
	Missed    uint64
}

// TestTraceStatsJSON: --stats --format json prints one object per
// interval and a final one, each on its own line before the summary, with
// the exact counts of the fixture's calls and histograms that hold them.
func TestTraceStatsJSON(t *testing.T) {
	testenv.RequireRoot(t)
	bin := fixture.Build(t, "blocklatency", fixture.Flavour{Optimized: true})
	for _, backend := range [][]string{{"--ebpf", "--interval", "5ms"}, nil} {
		name := "ptrace"
		if backend != nil {
			name = "ebpf"
		}
		t.Run(name, func(t *testing.T) {
			out, err := traceCLI(t, append(backend, "--stats", "--format", "json", "-e", bin, `^main\.(block|recurse)$`)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			lines := withoutCost(t, out)
			if !strings.HasSuffix(lines[len(lines)-1], ", 4 probes on 2 functions, backend "+name+"; program exited with status 0") {
				t.Fatalf("no summary line last:\n%s", out)
			}
			var objs []statsObject
			for _, l := range lines[:len(lines)-1] {
				var o statsObject
				if err := json.Unmarshal([]byte(l), &o); err != nil {
					t.Fatalf("line %q is not a stats object: %v\n%s", l, err, out)
				}
				objs = append(objs, o)
			}
			final := objs[len(objs)-1]
			if final.Stats != "final" || final.Backend != name || final.NotCalled != 0 || final.Missed != 0 {
				t.Fatalf("last object %+v, want the final one", final)
			}
			want := map[string]uint64{"main.block": 40, "main.recurse": 12}
			counts := func(o statsObject) map[string]uint64 {
				got := map[string]uint64{}
				for _, f := range o.Functions {
					got[f.Function] = f.Calls
				}
				return got
			}
			if got := counts(final); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("final calls %v, want %v", got, want)
			}
			for _, f := range final.Functions {
				l := f.Latency
				if f.Paired != f.Calls || f.Unpaired != 0 || f.Open != 0 || f.Lost != 0 || l == nil {
					t.Errorf("%s: %+v, want every call paired", f.Function, f)
					continue
				}
				var n uint64
				for _, b := range l.Buckets {
					n += b.Count
					if b.Count == 0 || b.Lo > b.Hi {
						t.Errorf("%s: bucket %+v", f.Function, b)
					}
				}
				top := l.Buckets[len(l.Buckets)-1]
				if n != f.Paired || !(l.P50ns <= l.P90ns && l.P90ns <= l.P99ns && l.P99ns <= l.MaxNs) ||
					uint64(l.MaxNs) < top.Lo || uint64(l.MaxNs) > top.Hi {
					t.Errorf("%s: latency %+v over %d paired calls", f.Function, *l, f.Paired)
				}
			}
			intervals := objs[:len(objs)-1]
			if backend != nil && len(intervals) == 0 {
				t.Errorf("no interval object with --interval 5ms:\n%s", out)
			}
			for _, o := range intervals {
				if o.Stats != "interval" {
					t.Errorf("object %+v before the final one", o)
				}
				for fn, n := range counts(o) {
					if n > want[fn] {
						t.Errorf("interval counts %s %d calls, more than the %d made", fn, n, want[fn])
					}
				}
			}
		})
	}
}
