package main

import (
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
		{[]string{"--stats", "--format", "json", "-e", bin, "main.block"}, "--format does not apply to --stats, which prints a table of figures instead of events"},
		{[]string{"--stats", "--interval", "-1s", "-e", bin, "main.block"}, "--interval must be 0 or more, got -1s"},
	} {
		if out, err := traceCLI(t, c.args...); err == nil || err.Error() != c.want || out != "" {
			t.Errorf("%v: error %v, output %q; want %q", c.args, err, out, c.want)
		}
	}
}
