package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// tracer is one way of running hotloop: untraced, under the empty probes
// of the floor, under the bare bpftrace probe, or under a debugger's trace
// command.
type tracer struct {
	label  string
	kind   string // "none", "floor", "bpftrace", "ebpf", "ptrace"
	fn     string // "hot" (an int argument) or "big" (a string and a *struct)
	format string // tinydbg's --format; "" for text
	dbg    debugger
	why    string // why it cannot be measured; empty when it can
}

func (t tracer) calls(c *config) int {
	if t.kind == "ptrace" {
		return c.tracePtraceN
	}
	return c.traceN
}

// match is the text of an entry line, counted as one event seen. Return
// lines ("main.hot => ...") do not contain "main.hot(".
func (t tracer) match() string {
	if t.format == "json" {
		return `"kind":"call"`
	}
	return "main." + t.fn + "("
}

func (t tracer) args(bin string) []string {
	args := []string{"trace"}
	if t.kind == "ebpf" {
		args = append(args, "--ebpf")
	}
	if t.format != "" {
		args = append(args, "--format", t.format)
	}
	return append(args, "--exec", bin, `^main\.`+t.fn+`$`)
}

func (t tracer) env(n int) string {
	env := "HOTLOOP_N=" + strconv.Itoa(n)
	if t.fn == "big" {
		env += " HOTLOOP_FN=big"
	}
	return env
}

// traceRun is what one traced (or untraced) run of hotloop measured.
type traceRun struct {
	wall, loop float64 // seconds: whole process, and the loop as hotloop timed it
	calls      int
	events     int     // calls the tracer reported; -1 when it reports none
	dropped    int     // what tinydbg's summary counts as dropped; -1 when not told
	cpu        float64 // seconds of the tracer's own CPU: its rusage less hotloop's
	target     float64 // seconds of hotloop's own CPU, the probes' kernel time included
	bpf        float64 // tinydbg's BPF run time per event from its cost line; NaN if none
}

var (
	loopLine  = regexp.MustCompile(`calls=(\d+) loop_ns=(\d+) cpu_ns=(\d+)`)
	bpfCount  = regexp.MustCompile(`@c: (\d+)`)
	sumLine   = regexp.MustCompile(`trace: (\d+) events?, (\d+) dropped`)
	costLine  = regexp.MustCompile(`BPF program ran \S+ in \d+ probe hits?, (\S+) per event`)
	bareProbe = "uprobe:%s:main.hot { @c = count(); }"
)

func traceOnce(c *config, t tracer, n int) (traceRun, error) {
	tr := traceRun{events: -1, dropped: -1, bpf: math.NaN()}
	dir, err := os.MkdirTemp("", "hotloop-out")
	if err != nil {
		return tr, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	outFile := filepath.Join(dir, "loop")
	s := spec{env: append(strings.Fields(t.env(n)), "HOTLOOP_OUT="+outFile), timeout: c.timeout}
	switch t.kind {
	case "none":
		s.path = c.hotloop
	case "floor":
		s.path = c.hotloop
		fl, _, err := floorProbes(c.hotloop, "main."+t.fn)
		if err != nil {
			return tr, err
		}
		defer fl.Close()
	case "bpftrace":
		s.path, s.args = c.bpftrace, []string{"-e", fmt.Sprintf(bareProbe, c.hotloop), "-c", c.hotloop}
	default:
		s.path, s.args, s.match = t.dbg.path, t.args(c.hotloop), t.match()
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
	// The tracer reaped hotloop, so its rusage holds hotloop's CPU too
	// (the probes' kernel time included, which runs in hotloop's context):
	// what is left is the tracer's own.
	own, _ := strconv.ParseFloat(m[3], 64)
	tr.target = own / 1e9
	tr.cpu = r.cpu.Seconds() - tr.target
	switch t.kind {
	case "bpftrace":
		if bm := bpfCount.FindStringSubmatch(r.output); bm != nil {
			tr.events, _ = strconv.Atoi(bm[1])
		} else {
			return tr, fmt.Errorf("bpftrace printed no count; output:\n%s", tail(r.output, 2000))
		}
	case "ebpf", "ptrace":
		tr.events = r.matches
		if t.dbg.name == "tinydbg" {
			sm := sumLine.FindStringSubmatch(r.output)
			if sm == nil {
				return tr, fmt.Errorf("%s printed no summary; output tail:\n%s", t.label, tail(r.output, 2000))
			}
			tr.dropped, _ = strconv.Atoi(sm[2])
			if cm := costLine.FindStringSubmatch(r.output); cm != nil {
				if d, err := time.ParseDuration(cm[1]); err == nil {
					tr.bpf = d.Seconds()
				}
			}
		}
	}
	return tr, nil
}

// traceTracers lists every row of the step, the floor first for each kind
// of argument.
func traceTracers(c *config, dbgs []debugger) []tracer {
	noBPF := ""
	if _, err := os.Stat(c.bpftrace); err != nil {
		noBPF = "no bpftrace"
	}
	ts := []tracer{
		{label: "no tracer", kind: "none", fn: "hot"},
		{label: "no tracer", kind: "none", fn: "big"},
		{label: "floor: empty BPF programs on entry + RETs", kind: "floor", fn: "hot"},
		{label: "floor: empty BPF programs on entry + RETs", kind: "floor", fn: "big"},
		{label: "bpftrace uprobe (bare count, entry only)", kind: "bpftrace", fn: "hot", why: noBPF},
	}
	for _, d := range dbgs {
		if d.name != "tinydbg" {
			continue
		}
		for _, fn := range []string{"hot", "big"} {
			for _, format := range []string{"", "json"} {
				label := "tinydbg trace --ebpf"
				if format != "" {
					label += " --format " + format
				}
				ts = append(ts, tracer{label: label, kind: "ebpf", fn: fn, format: format, dbg: d, why: d.noEBPF})
			}
		}
	}
	for _, d := range dbgs {
		if d.name == "dlv" {
			ts = append(ts, tracer{label: "dlv trace --ebpf", kind: "ebpf", fn: "hot", dbg: d, why: d.noEBPF})
		}
	}
	for _, d := range dbgs {
		ts = append(ts, tracer{label: d.name + " trace (ptrace)", kind: "ptrace", fn: "hot", dbg: d, why: d.noTrace})
	}
	return ts
}

// key names a row: its label and the traced function.
func (t tracer) key() string { return t.label + " / " + t.fn }

// benchTrace measures per-call overhead on hotloop: (traced − untraced
// loop time) / calls, from the loop time hotloop measures itself (which
// excludes tracer start-up), against the floor of the same function; the
// tracer's own CPU per event; what was lost; and then the real server.
func benchTrace(c *config, dbgs []debugger) (string, error) {
	tracers := traceTracers(c, dbgs)
	runs := map[string][]traceRun{}
	base := map[string][]traceRun{} // untraced runs by function and size
	// startup holds, for tinydbg's eBPF rows, runs of 4 calls: their CPU is
	// the tracer's start-up (reading the binary, loading and attaching the
	// programs), which the per-event figure after start-up leaves out.
	startup := map[string][]traceRun{}
	baseKey := func(fn string, n int) string { return fn + "/" + strconv.Itoa(n) }
	for r := 0; r < c.reps; r++ {
		for _, t := range tracers {
			if t.why != "" {
				continue
			}
			if t.kind == "none" {
				for _, n := range []int{c.traceN, c.tracePtraceN} {
					if t.fn == "big" && n != c.traceN {
						continue
					}
					tr, err := traceOnce(c, t, n)
					if err != nil {
						return "", err
					}
					base[baseKey(t.fn, n)] = append(base[baseKey(t.fn, n)], tr)
				}
				continue
			}
			fmt.Fprintf(os.Stderr, "   rep %d: %s (%s)\n", r+1, t.label, t.fn)
			tr, err := traceOnce(c, t, t.calls(c))
			if err != nil {
				return "", err
			}
			runs[t.key()] = append(runs[t.key()], tr)
			if t.dbg.name == "tinydbg" && t.kind == "ebpf" {
				st, err := traceOnce(c, t, 1)
				if err != nil {
					return "", err
				}
				startup[t.key()] = append(startup[t.key()], st)
			}
		}
	}
	overhead := map[string]stat{}
	progCPU := map[string]stat{} // hotloop's extra CPU per call: robust to a busy machine
	cpuPer := map[string]stat{}
	steadyPer := map[string]stat{} // cpuPer less start-up
	startCPU := map[string]stat{}
	lostMax := map[string]int{}
	var rows [][]string
	for _, t := range tracers {
		if t.why != "" {
			rows = append(rows, []string{t.label, argsOf(t.fn), "not measured: " + t.why, "", "", "", "", "", "", "", "", "", "", ""})
			continue
		}
		if t.kind == "none" {
			for _, n := range []int{c.traceN, c.tracePtraceN} {
				if b := base[baseKey(t.fn, n)]; len(b) > 0 {
					rows = append(rows, []string{t.label, argsOf(t.fn), strconv.Itoa(4 * n), "—", "—",
						spread(collect(b, loopOf), secs), "—", "—", "—", "—", "—", "—", "—", "—"})
				}
			}
			continue
		}
		trs := runs[t.key()]
		bl := orNaN(collect(base[baseKey(t.fn, t.calls(c))], loopOf))
		bc := orNaN(collect(base[baseKey(t.fn, t.calls(c))], func(tr traceRun) float64 { return tr.target }))
		var ol, pc, ev, cpu, bpf, steady []float64
		lost := 0
		st := startup[t.key()]
		for i, tr := range trs {
			ol = append(ol, (tr.loop-bl)/float64(tr.calls))
			pc = append(pc, (tr.target-bc)/float64(tr.calls))
			if tr.events >= 0 {
				ev = append(ev, float64(tr.events))
				lost = max(lost, tr.calls-tr.events, tr.dropped)
			}
			if t.kind == "ebpf" || t.kind == "ptrace" {
				cpu = append(cpu, tr.cpu/float64(max(2*tr.events, 1))) // a call and its return
				if i < len(st) {
					steady = append(steady, (tr.cpu-st[i].cpu)/float64(max(2*(tr.events-st[i].calls), 1)))
				}
			}
			if !math.IsNaN(tr.bpf) {
				bpf = append(bpf, tr.bpf)
			}
		}
		overhead[t.key()], cpuPer[t.key()], lostMax[t.key()] = summarize(ol), summarize(cpu), lost
		progCPU[t.key()] = summarize(pc)
		if len(steady) > 0 {
			steadyPer[t.key()] = summarize(steady)
			startCPU[t.key()] = collect(st, func(tr traceRun) float64 { return tr.cpu })
		}
		seen, lostCell := "—", "—"
		if len(ev) > 0 {
			evs := summarize(ev)
			seen, lostCell = fmt.Sprintf("%.0f (min %.0f)", evs.med, evs.min), strconv.Itoa(lost)
		}
		floor := orNaN(overhead["floor: empty BPF programs on entry + RETs / "+t.fn])
		floorCPU := orNaN(progCPU["floor: empty BPF programs on entry + RETs / "+t.fn])
		vsFloor, vsFloorCPU := "—", "—"
		if t.kind != "floor" {
			vsFloor = ratio(orNaN(overhead[t.key()]), floor)
			vsFloorCPU = ratio(orNaN(progCPU[t.key()]), floorCPU)
		}
		rows = append(rows, []string{t.label, argsOf(t.fn), strconv.Itoa(trs[0].calls), seen, lostCell,
			spread(collect(trs, loopOf), secs), spread(overhead[t.key()], secs), vsFloor,
			spread(progCPU[t.key()], secs), vsFloorCPU,
			spreadOr(cpuPer[t.key()]), spreadOr(steadyPer[t.key()]), spreadOr(startCPU[t.key()]), spreadOr(summarize(bpf))})
	}

	type goal struct {
		name, a, b, target string
		want               float64
	}
	const fl = "floor: empty BPF programs on entry + RETs"
	goals := []goal{
		{"tinydbg --ebpf text, int / floor", "tinydbg trace --ebpf / hot", fl + " / hot", "≤ 1.5×", 1.5},
		{"tinydbg --ebpf text, big / floor", "tinydbg trace --ebpf / big", fl + " / big", "≤ 1.5×", 1.5},
		{"tinydbg --ebpf JSON / text, int", "tinydbg trace --ebpf --format json / hot", "tinydbg trace --ebpf / hot", "≤ 1.2×", 1.2},
		{"tinydbg --ebpf JSON / text, big", "tinydbg trace --ebpf --format json / big", "tinydbg trace --ebpf / big", "≤ 1.2×", 1.2},
		{"dlv --ebpf / floor, int", "dlv trace --ebpf / hot", fl + " / hot", "", 0},
		{"bpftrace bare count / floor, int", "bpftrace uprobe (bare count, entry only) / hot", fl + " / hot", "", 0},
	}
	for _, fn := range []string{"hot", "big"} {
		g := goal{"tinydbg --ebpf text, " + argsOf(fn) + " / floor, program CPU", "tinydbg trace --ebpf / " + fn, fl + " / " + fn, "≤ 1.5×", 1.5}
		goals = append(goals, g)
	}
	var grows [][]string
	for _, g := range goals {
		m := overhead
		if strings.HasSuffix(g.name, "program CPU") {
			m = progCPU
		}
		v := "—"
		r := ratioValue(orNaN(m[g.a]), orNaN(m[g.b]))
		if g.target != "" {
			v = verdict(r, g.want)
		}
		grows = append(grows, []string{g.name, ratio(orNaN(m[g.a]), orNaN(m[g.b])), g.target, v})
	}
	for _, t := range tracers {
		if t.dbg.name != "tinydbg" || t.kind != "ebpf" || t.why != "" {
			continue
		}
		name := t.label + ", " + argsOf(t.fn)
		grows = append(grows,
			[]string{name + ": events lost", strconv.Itoa(lostMax[t.key()]), "0", verdict(float64(lostMax[t.key()]), 0)},
			[]string{name + ": tinydbg CPU per event", secs(orNaN(cpuPer[t.key()])), "≤ 1 µs", verdict(orNaN(cpuPer[t.key()]), 1e-6)},
			[]string{name + ": tinydbg CPU per event after start-up", secs(orNaN(steadyPer[t.key()])), "≤ 1 µs", verdict(orNaN(steadyPer[t.key()]), 1e-6)})
	}

	var b strings.Builder
	b.WriteString("## 4. Trace overhead per call, against the floor\n\n")
	fmt.Fprintf(&b, "`_fixtures/hotloop` (`-gcflags=all=-N -l`, which `dlv trace --ebpf` needs), 4 goroutines calling "+
		"main.hot(i int) (\"int\") or, with HOTLOOP_FN=big, main.big(s string, it *Item) with a 40-byte string and a "+
		"*struct holding a string and a pointer (\"big\"). eBPF rows trace %d calls (%d per goroutine); ptrace rows %d. "+
		"hotloop times its own loop, so \"per call\" = (traced loop − untraced loop) / calls excludes tracer start-up. "+
		"The **floor** attaches an empty BPF program (`r0 = 0; exit`: no capture, no ring buffer, no user space), built "+
		"with cilium/ebpf in the harness, at the sites tinydbg probes (entry past the stack check and every RET, from "+
		"tinydbg's probe.FindSites) through one uprobe_multi link, as tinydbg attaches; \"× floor\" divides by it. "+
		"The bare bpftrace count probes the entry only. Trace output goes to a pipe the harness drains, counting entry "+
		"lines (\"events seen\"); \"lost\" is the most any repetition lost: calls − events seen, or tinydbg's own dropped count "+
		"if larger. \"tracer CPU / event\" is the tracer's user + system time (wait4's rusage, less the CPU hotloop reports "+
		"for itself, which holds the probes' kernel time) over events: twice the calls seen, a call and its return. "+
		"\"start-up CPU\" is tinydbg's CPU for a run of 4 calls in the same repetition (reading the binary, building and "+
		"loading the programs, attaching, detaching), and \"… after start-up\" is (tracer CPU − start-up CPU) / (events − 8): "+
		"what each further event costs. \"BPF run time / event\" is what tinydbg's "+
		"summary reads from the kernel's run-time statistics of its program. \"program CPU / call\" is hotloop's own "+
		"user + system time (which holds the uprobe traps and the BPF programs, and not time spent waiting for a CPU) "+
		"less the untraced run's, over calls: the figure a busy machine does not blur. %d repetitions, median (min – max).\n\n",
		4*c.traceN, c.traceN, 4*c.tracePtraceN, c.reps)
	b.WriteString(table([]string{"tracer", "args", "calls", "events seen", "lost", "loop (in-process)", "per call",
		"× floor", "program CPU / call", "× floor (CPU)", "tracer CPU / event", "… after start-up", "start-up CPU",
		"BPF run time / event"}, rows))
	b.WriteString("\nGoals (medians):\n\n")
	b.WriteString(table([]string{"comparison", "measured", "goal", "verdict"}, grows))
	b.WriteString("\n```\n")
	for _, t := range tracers {
		switch t.kind {
		case "none", "floor":
			fmt.Fprintf(&b, "%s HOTLOOP_OUT=$OUT $WORK/hotloop", t.env(c.traceN))
			if t.kind == "floor" {
				fmt.Fprintf(&b, "   # with the empty programs attached at main.%s's sites", t.fn)
			}
			b.WriteString("\n")
		case "bpftrace":
			fmt.Fprintf(&b, "%s HOTLOOP_OUT=$OUT bpftrace -e '%s' -c $WORK/hotloop\n", t.env(c.traceN), fmt.Sprintf(bareProbe, "$WORK/hotloop"))
		default:
			fmt.Fprintf(&b, "%s HOTLOOP_OUT=$OUT %s %s\n", t.env(t.calls(c)), t.dbg.name, strings.Join(t.args("$WORK/hotloop"), " "))
		}
	}
	b.WriteString("```\n")
	srv, err := benchServer(c, dbgs)
	if err != nil {
		return "", err
	}
	b.WriteString(srv)
	return b.String(), nil
}

func argsOf(fn string) string {
	if fn == "big" {
		return "big"
	}
	return "int"
}

func loopOf(tr traceRun) float64 { return tr.loop }

// spreadOr is spread, or "—" when nothing was measured.
func spreadOr(s stat) string {
	if s.n == 0 {
		return "—"
	}
	return spread(s, secs)
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
