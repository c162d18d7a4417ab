package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// benchStats measures the throughput httpload keeps under each mode, in
// c.reps interleaved rounds.
func benchStats(c *config, dbgs []debugger) (string, error) {
	noBPF := ""
	if _, err := os.Stat(c.bpftrace); err != nil {
		noBPF = "no bpftrace"
	}
	noStats := ""
	if out, err := runHelp(c.tinydbg); err != nil || !strings.Contains(out, "--stats") {
		noStats = "`tinydbg trace --stats` not available"
	}
	modes := []loadMode{
		{label: "no tracer", kind: "none"},
		{label: "probe floor: a counter at tinydbg's sites (entry past the stack check, every RET)", kind: "floor"},
		{label: "bpftrace, count at each entry (`" + statsGlob + "`)", kind: "bpftrace-entry", why: noBPF},
		{label: "tinydbg trace --ebpf --stats", kind: "stats-ebpf", why: noStats},
		{label: "tinydbg trace --stats (ptrace)", kind: "stats-ptrace", why: noStats},
	}
	requests := func(m loadMode) int {
		if m.kind == "stats-ptrace" {
			return min(c.statsRequests, statsPtraceN)
		}
		return c.statsRequests
	}
	runs := map[string][]loadRun{}
	for r := 0; r < c.reps; r++ {
		for i := range modes {
			m := modes[(i+r)%len(modes)]
			if m.why != "" {
				continue
			}
			fmt.Fprintf(os.Stderr, "   rep %d: %s\n", r+1, m.label)
			lr, err := loadOnce(c, m, requests(m))
			if err != nil {
				return "", err
			}
			runs[m.label] = append(runs[m.label], lr)
		}
	}
	rpsOf := func(label string) stat {
		var xs []float64
		for _, lr := range runs[label] {
			xs = append(xs, lr.rps)
		}
		return summarize(xs)
	}
	base := rpsOf(modes[0].label)
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	var rows [][]string
	for _, m := range modes {
		if m.why != "" {
			rows = append(rows, []string{m.label, "not measured: " + m.why, "", "", "", ""})
			continue
		}
		s := rpsOf(m.label)
		counts, paired := "—", "—"
		if m.kind != "none" {
			var cs, ps []float64
			for _, lr := range runs[m.label] {
				cs = append(cs, float64(lr.counts)/float64(requests(m)+loadWarmup+1))
				ps = append(ps, float64(lr.paired))
			}
			counts = fmt.Sprintf("%.1f", summarize(cs).med)
			if strings.HasPrefix(m.kind, "stats") {
				paired = fmt.Sprintf("%.0f of %.0f", summarize(ps).med, summarize(cs).med*float64(requests(m)+loadWarmup+1))
			}
		}
		rows = append(rows, []string{m.label, strconv.Itoa(requests(m)), spread(s, num),
			fmt.Sprintf("%.0f%%", 100*s.med/base.med), counts, paired})
	}
	tinyd := rpsOf(modes[3].label)
	cmps := [][]string{
		{"bpftrace entry count / tinydbg --ebpf --stats", ratio(rpsOf(modes[2].label).med, tinyd.med), "≤ 1.2×",
			verdict(ratioValue(rpsOf(modes[2].label).med, tinyd.med), 1.2)},
		{"probe floor / tinydbg --ebpf --stats", ratio(rpsOf(modes[1].label).med, tinyd.med), "—", "—"},
	}
	var b strings.Builder
	b.WriteString("## 6. `trace --stats` on `" + statsRegexp + "` under HTTP load\n\n")
	fmt.Fprintf(&b, "`_fixtures/httpload` (optimized), a net/http server answering GET /hello with a small JSON body; the harness "+
		"is the client: %d keep-alive connections, %d warm-up requests, then %d timed requests (%d under the ptrace backend, "+
		"which costs milliseconds per request). Throughput = timed requests / time they took; %d interleaved rounds, median "+
		"(min – max). bpftrace probes each function's first instruction (its stack check, which the kernel single-steps); "+
		"tinydbg probes the entry past the stack check (a PUSH, emulated) and every RET (single-stepped), so a call costs it one more probe hit. "+
		"The probe floor is a BPF program of the harness that only bumps a per-CPU counter, attached (uprobe_multi, after start-up) at "+
		"tinydbg's sites: the cost of the probe mechanism itself on this load. \"counted per request\" is the tracer's total (calls; for the floor, probe hits: two per call) over all requests, warm-up and /quit included. "+
		"tinydbg aggregates in the kernel: no event reaches user space.\n\n",
		loadWorkers, loadWarmup, c.statsRequests, min(c.statsRequests, statsPtraceN), c.reps)
	b.WriteString(table([]string{"mode", "requests", "requests/s", "of untraced", "counted per request", "paired"}, rows))
	b.WriteString("\nThroughput ratio (medians; above 1 means bpftrace kept more):\n\n")
	b.WriteString(table([]string{"comparison", "ratio", "target", "verdict"}, cmps))
	b.WriteString("\n```\n")
	for _, m := range modes {
		if m.kind == "none" || m.kind == "floor" {
			continue
		}
		env := ""
		if m.kind == "bpftrace-entry" {
			env = "BPFTRACE_MAX_PROBES=20000 "
		}
		fmt.Fprintf(&b, "%s%s\n", env, strings.Join(quoteArgs(m.argv(c)), " "))
	}
	b.WriteString("```\n")
	return b.String(), nil
}

// runHelp returns `tinydbg trace --help`.
func runHelp(tinydbg string) (string, error) {
	r, err := run(spec{path: tinydbg, args: []string{"trace", "--help"}, timeout: 30e9})
	return r.output, err
}

// quoteArgs single-quotes the arguments a shell would split or expand.
func quoteArgs(argv []string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if strings.ContainsAny(a, " *{}()\\^$;@") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}
