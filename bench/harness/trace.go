package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// tracer is one way of running hotloop: untraced, under the bare bpftrace
// probe, or under a debugger's trace command.
type tracer struct {
	label string
	kind  string // "none", "bpftrace", "bpfprint", "ebpf", "ptrace"
	dbg   debugger
	why   string // why it cannot be measured; empty when it can
}

func (t tracer) calls(c *config) int {
	if t.kind == "ptrace" {
		return c.tracePtraceN
	}
	return c.traceN
}

// traceRun is what one traced (or untraced) run of hotloop measured.
type traceRun struct {
	wall, loop float64 // seconds: whole process, and the loop as hotloop timed it
	calls      int
	events     int // calls the tracer reported; -1 when it reports none
}

var (
	loopLine  = regexp.MustCompile(`calls=(\d+) loop_ns=(\d+)`)
	bpfCount  = regexp.MustCompile(`@c: (\d+)`)
	bareProbe = "uprobe:%s:main.hot { @c = count(); }"
	// printProbe sends every call to user space, as a tracer must; Go's
	// register ABI passes main.hot's argument in RAX.
	printProbe = `uprobe:%s:main.hot { printf("hot %%d\n", reg("ax")); }`
)

func traceOnce(c *config, t tracer, n int) (traceRun, error) {
	tr := traceRun{events: -1}
	dir, err := os.MkdirTemp("", "hotloop-out")
	if err != nil {
		return tr, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	outFile := filepath.Join(dir, "loop")
	s := spec{env: []string{"HOTLOOP_N=" + strconv.Itoa(n), "HOTLOOP_OUT=" + outFile}, timeout: c.timeout}
	switch t.kind {
	case "none":
		s.path = c.hotloop
	case "bpftrace":
		s.path, s.args = c.bpftrace, []string{"-e", fmt.Sprintf(bareProbe, c.hotloop), "-c", c.hotloop}
	case "bpfprint":
		s.path, s.args, s.match = c.bpftrace, []string{"-e", fmt.Sprintf(printProbe, c.hotloop), "-c", c.hotloop}, "hot "
	default:
		// Entry lines look like "> goroutine(7): main.hot(0)"; return lines
		// ("main.hot => ...") do not contain "main.hot(".
		s.path, s.args, s.match = t.dbg.path, t.dbg.traceArgs(c.hotloop, t.kind == "ebpf"), "main.hot("
	}
	r, err := run(s)
	if err != nil {
		return tr, err
	}
	data, err := os.ReadFile(outFile)
	m := loopLine.FindStringSubmatch(string(data))
	if err != nil || m == nil {
		return tr, fmt.Errorf("%s: hotloop wrote no loop time (exit %d); output tail:\n%s", t.label, r.exitCode, tail(r.output, 2000))
	}
	tr.wall = seconds(r.wall)
	tr.calls, _ = strconv.Atoi(m[1])
	ns, _ := strconv.ParseFloat(m[2], 64)
	tr.loop = ns / 1e9
	switch t.kind {
	case "bpftrace":
		if bm := bpfCount.FindStringSubmatch(r.output); bm != nil {
			tr.events, _ = strconv.Atoi(bm[1])
		} else {
			return tr, fmt.Errorf("bpftrace printed no count; output:\n%s", tail(r.output, 2000))
		}
	case "ebpf", "ptrace", "bpfprint":
		tr.events = r.matches
	}
	return tr, nil
}

// benchTrace measures the per-call overhead of each tracer on hotloop:
// (traced − untraced) / calls, both from the loop time hotloop measures
// itself (which excludes tracer start-up) and from the whole wall time.
func benchTrace(c *config, dbgs []debugger) (string, error) {
	tracers := []tracer{{label: "no tracer", kind: "none"}}
	noBPF := ""
	if _, err := os.Stat(c.bpftrace); err != nil {
		noBPF = "no bpftrace"
	}
	tracers = append(tracers,
		tracer{label: "bpftrace uprobe (bare count)", kind: "bpftrace", why: noBPF},
		tracer{label: "bpftrace uprobe + printf per call", kind: "bpfprint", why: noBPF})
	for _, kind := range []string{"ebpf", "ptrace"} {
		for _, d := range dbgs {
			t := tracer{label: d.name + " trace", kind: kind, dbg: d, why: d.noTrace}
			if kind == "ebpf" {
				t.label += " --ebpf"
				t.why = d.noEBPF
			}
			tracers = append(tracers, t)
		}
	}
	runs := map[string][]traceRun{}
	base := map[int][]traceRun{} // untraced runs by calls per goroutine
	sizes := []int{c.traceN}
	if c.tracePtraceN != c.traceN {
		sizes = append(sizes, c.tracePtraceN)
	}
	for r := 0; r < c.reps; r++ {
		for _, t := range tracers {
			if t.why != "" {
				continue
			}
			if t.kind == "none" {
				for _, n := range sizes {
					tr, err := traceOnce(c, t, n)
					if err != nil {
						return "", err
					}
					base[n] = append(base[n], tr)
				}
				continue
			}
			fmt.Fprintf(os.Stderr, "   rep %d: %s\n", r+1, t.label)
			tr, err := traceOnce(c, t, t.calls(c))
			if err != nil {
				return "", err
			}
			runs[t.label] = append(runs[t.label], tr)
		}
	}
	medOf := func(trs []traceRun, f func(traceRun) float64) float64 {
		var xs []float64
		for _, tr := range trs {
			xs = append(xs, f(tr))
		}
		return summarize(xs).med
	}
	wallOf := func(tr traceRun) float64 { return tr.wall }
	loopOf := func(tr traceRun) float64 { return tr.loop }
	overhead := map[string]stat{}
	overheadWall := map[string]stat{}
	var rows [][]string
	for _, t := range tracers {
		if t.why != "" {
			rows = append(rows, []string{t.label, "not measured: " + t.why, "", "", "", "", ""})
			continue
		}
		trs := runs[t.label]
		n := t.calls(c)
		if t.kind == "none" {
			for _, n := range sizes {
				rows = append(rows, []string{t.label, strconv.Itoa(4 * n), "—",
					spread(collect(base[n], wallOf), secs), spread(collect(base[n], loopOf), secs), "—", "—"})
			}
			continue
		}
		bw, bl := medOf(base[n], wallOf), medOf(base[n], loopOf)
		var ol, ow, ev []float64
		for _, tr := range trs {
			ol = append(ol, (tr.loop-bl)/float64(tr.calls))
			ow = append(ow, (tr.wall-bw)/float64(tr.calls))
			ev = append(ev, float64(tr.events))
		}
		overhead[t.label], overheadWall[t.label] = summarize(ol), summarize(ow)
		evs := summarize(ev)
		rows = append(rows, []string{t.label, strconv.Itoa(trs[0].calls), fmt.Sprintf("%.0f (min %.0f)", evs.med, evs.min),
			spread(collect(trs, wallOf), secs), spread(collect(trs, loopOf), secs),
			spread(overhead[t.label], secs), spread(overheadWall[t.label], secs)})
	}

	type cmp struct {
		name, a, b, goal string
		want             float64
		inverse          bool // the goal is a/b ≥ want rather than ≤
	}
	cmps := []cmp{
		{"tinydbg --ebpf / bare bpftrace probe", "tinydbg trace --ebpf", "bpftrace uprobe (bare count)", "≤ 3×", 3, false},
		{"dlv --ebpf / tinydbg --ebpf", "dlv trace --ebpf", "tinydbg trace --ebpf", "≥ 10×", 10, true},
		{"dlv trace / tinydbg trace (ptrace)", "dlv trace", "tinydbg trace", "≥ 10×", 10, true},
		{"dlv --ebpf / bare bpftrace probe", "dlv trace --ebpf", "bpftrace uprobe (bare count)", "", 0, false},
		{"tinydbg --ebpf / bpftrace printf per call", "tinydbg trace --ebpf", "bpftrace uprobe + printf per call", "", 0, false},
		{"dlv --ebpf / bpftrace printf per call", "dlv trace --ebpf", "bpftrace uprobe + printf per call", "", 0, false},
	}
	var crows [][]string
	for _, x := range cmps {
		a, b := overhead[x.a], overhead[x.b]
		aw, bw := overheadWall[x.a], overheadWall[x.b]
		v := "—"
		if x.goal != "" {
			if x.inverse {
				v = verdict(-ratioValue(orNaN(a), orNaN(b)), -x.want)
			} else {
				v = verdict(ratioValue(orNaN(a), orNaN(b)), x.want)
			}
		}
		crows = append(crows, []string{x.name, ratio(orNaN(a), orNaN(b)), ratio(orNaN(aw), orNaN(bw)), x.goal, v})
	}

	var b strings.Builder
	b.WriteString("## 4. Trace overhead per call on hotloop\n\n")
	fmt.Fprintf(&b, "`_fixtures/hotloop` (`-gcflags=all=-N -l`, which `dlv trace --ebpf` needs: on the optimized build it fails with "+
		"\"empty OP stack\"), 4 goroutines calling main.hot. eBPF tracers and the bare probe trace %d calls (%d per goroutine); "+
		"ptrace tracers trace %d calls (%d per goroutine), because `dlv trace` costs milliseconds per call. "+
		"hotloop times its own loop (HOTLOOP_OUT), so \"per call (loop)\" = (traced loop − untraced loop) / calls excludes tracer "+
		"start-up; \"per call (wall)\" = (traced wall − untraced wall) / calls includes it. Trace output goes to a pipe the harness "+
		"drains, counting entry lines (\"events seen\"; for the bare probe, its @c count). The bare probe only counts in the kernel; "+
		"the printf probe also ships every call to user space, which is the floor for a tracer that reports each call. %d repetitions, median (min – max).\n\n",
		4*c.traceN, c.traceN, 4*c.tracePtraceN, c.tracePtraceN, c.reps)
	b.WriteString(table([]string{"tracer", "calls", "events seen", "wall", "loop (in-process)", "per call (loop)", "per call (wall)"}, rows))
	b.WriteString("\nRatios of per-call overhead (medians):\n\n")
	b.WriteString(table([]string{"comparison", "per call (loop)", "per call (wall)", "target", "verdict (loop)"}, crows))
	b.WriteString("\n```\n")
	fmt.Fprintf(&b, "HOTLOOP_N=%d HOTLOOP_OUT=$OUT $WORK/hotloop\n", c.traceN)
	fmt.Fprintf(&b, "HOTLOOP_N=%d HOTLOOP_OUT=$OUT bpftrace -e '%s' -c $WORK/hotloop\n", c.traceN, fmt.Sprintf(bareProbe, "$WORK/hotloop"))
	fmt.Fprintf(&b, "HOTLOOP_N=%d HOTLOOP_OUT=$OUT bpftrace -e '%s' -c $WORK/hotloop\n", c.traceN, fmt.Sprintf(printProbe, "$WORK/hotloop"))
	for _, t := range tracers[3:] {
		fmt.Fprintf(&b, "HOTLOOP_N=%d HOTLOOP_OUT=$OUT %s %s\n", t.calls(c), t.dbg.name, strings.Join(t.dbg.traceArgs("$WORK/hotloop", t.kind == "ebpf"), " "))
	}
	b.WriteString("```\n")
	return b.String(), nil
}

func collect(trs []traceRun, f func(traceRun) float64) stat {
	var xs []float64
	for _, tr := range trs {
		xs = append(xs, f(tr))
	}
	return summarize(xs)
}

// orNaN is the median of a stat, NaN when nothing was measured.
func orNaN(s stat) float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return s.med
}

func ratioValue(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}
