// Command harness measures tinydbg against Delve (and a bare bpftrace uprobe)
// in one run: start-up on a large binary, the breakpoint → continue cycle, the
// JSON-RPC continue round trip, REPL start-up, and tracing overhead. It prints
// Markdown tables and writes one fragment per step into the results
// directory; bench/run.sh assembles them into bench/RESULTS.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// config is everything the steps need: tool paths, fixture paths, sizes.
type config struct {
	tinydbg, dlv, bpftrace string
	goBin                  string // cmd/go built from GOROOT: the large binary
	hotloop                string // _fixtures/hotloop built with -N -l
	jsonserve              string // _fixtures/jsonserve, optimized
	serverN, serverConns   int    // requests and connections of the server load
	many                   string // _fixtures/manygoroutines
	httpload               string // _fixtures/httpload, optimized
	statsRequests          int    // timed requests per run of the stats step
	condloop               string // _fixtures/condloop built with -N -l
	condN, condSlowN       int    // calls of the cond step: in the kernel, and stopping at each
	resultsDir             string
	reps                   int
	cycles                 int // continues in the cycle benchmark
	apiContinues           int // timed continues per API session
	traceN                 int // calls per goroutine for eBPF tracers
	tracePtraceN           int // calls per goroutine for ptrace tracers
	timeout                time.Duration
}

// debugger is one debugger under test and how to drive it; unavailable says
// why a feature cannot be measured (empty when it can).
type debugger struct {
	name, path string
	extraExec  []string // flags exec needs for a piped, non-terminal stdin
	extraAPI   []string // flags headless mode needs for API v2
	noREPL     string
	noHeadless string
	noTrace    string
	noEBPF     string
}

func (d debugger) replArgs(bin string) []string {
	return append(append([]string{"exec"}, d.extraExec...), bin)
}

func (d debugger) headlessArgs(bin string) []string {
	args := []string{"exec", "--headless", "--listen=127.0.0.1:0", "--accept-multiclient"}
	return append(append(args, d.extraAPI...), bin)
}

func main() {
	var c config
	step := flag.String("step", "all", "startup|cycle|api|trace|goroutines|stats|cond|all")
	flag.StringVar(&c.tinydbg, "tinydbg", "bin/tinydbg", "tinydbg binary")
	flag.StringVar(&c.dlv, "dlv", "dlv", "Delve binary")
	flag.StringVar(&c.bpftrace, "bpftrace", "bpftrace", "bpftrace binary")
	flag.StringVar(&c.goBin, "gobin", "", "cmd/go binary (the large start-up target)")
	flag.StringVar(&c.hotloop, "hotloop", "", "hotloop fixture binary")
	flag.StringVar(&c.jsonserve, "jsonserve", "", "jsonserve fixture binary (the real server of the trace step)")
	flag.IntVar(&c.serverN, "server-n", 20000, "requests per server load")
	flag.IntVar(&c.serverConns, "server-conns", 8, "keep-alive connections of the server load")
	flag.StringVar(&c.many, "many", "", "manygoroutines fixture binary")
	flag.StringVar(&c.httpload, "httpload", "", "httpload fixture binary (the stats step's server)")
	flag.IntVar(&c.statsRequests, "stats-requests", 20000, "timed requests per run of the stats step")
	flag.StringVar(&c.condloop, "condloop", "", "condloop fixture binary")
	flag.IntVar(&c.condN, "cond-n", 1000000, "calls of main.hot for the kernel ways of the cond step")
	flag.IntVar(&c.condSlowN, "cond-slow-n", 2000, "calls of main.hot for the stop-and-evaluate ways of the cond step")
	flag.StringVar(&c.resultsDir, "results", "bench/results", "directory for per-step Markdown fragments")
	flag.IntVar(&c.reps, "reps", 5, "repetitions per measurement")
	flag.IntVar(&c.cycles, "cycles", 300, "continues in the cycle benchmark")
	flag.IntVar(&c.apiContinues, "api-continues", 500, "timed continues per API session")
	flag.IntVar(&c.traceN, "trace-n", 100000, "calls per goroutine (4 goroutines) for eBPF tracers and the bare probe")
	flag.IntVar(&c.tracePtraceN, "trace-ptrace-n", 500, "calls per goroutine for ptrace tracers")
	flag.DurationVar(&c.timeout, "timeout", 3*time.Minute, "limit for one measured run")
	flag.Parse()

	steps := map[string]func(*config, []debugger) (string, error){
		"startup":    benchStartup,
		"cycle":      benchCycle,
		"api":        benchAPI,
		"trace":      benchTrace,
		"goroutines": benchGoroutines,
		// The server half of the trace step alone, for working on it;
		// "trace" includes it.
		"server": benchServer,
		"stats":  benchStats,
		"cond":   benchCond,
	}
	order := []string{"startup", "cycle", "api", "trace", "goroutines", "stats", "cond"}
	if *step != "all" {
		if steps[*step] == nil {
			fmt.Fprintf(os.Stderr, "unknown step %q (want startup|cycle|api|trace|goroutines|stats|cond|all)\n", *step)
			os.Exit(2)
		}
		order = []string{*step}
	}
	dbgs := []debugger{probeTinydbg(c.tinydbg), probeDelve(c.dlv)}
	failed := false
	for _, name := range order {
		fmt.Fprintf(os.Stderr, "== %s\n", name)
		loadBefore := loadavg()
		md, err := steps[name](&c, dbgs)
		if err != nil {
			fmt.Fprintf(os.Stderr, "step %s: %v\n", name, err)
			failed = true
			continue
		}
		fmt.Println(md)
		if err := os.MkdirAll(c.resultsDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// Other work on a 2-core machine skews absolute numbers; say how busy it was.
		stamp := fmt.Sprintf("_Measured %s with tinydbg %s; load average (1, 5, 15 min) before: %s, after: %s._\n\n",
			time.Now().UTC().Format("2006-01-02 15:04 MST"), c.tinydbg, loadBefore, loadavg())
		if err := os.WriteFile(filepath.Join(c.resultsDir, name+".md"), []byte(md+"\n"+stamp), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if failed {
		os.Exit(1)
	}
}

// probeDelve describes dlv; Delve refuses a piped stdin without
// --allow-non-terminal-interactive, and its headless server needs API v2.
func probeDelve(path string) debugger {
	d := debugger{name: "dlv", path: path,
		extraExec: []string{"--allow-non-terminal-interactive=true"},
		extraAPI:  []string{"--api-version=2"}}
	if _, err := exec.LookPath(path); err != nil {
		d.noREPL, d.noHeadless, d.noTrace, d.noEBPF = "no dlv", "no dlv", "no dlv", "no dlv"
	}
	return d
}

// probeTinydbg asks tinydbg's own help which commands and flags exist, so the
// harness measures whatever has landed and says what has not.
func probeTinydbg(path string) debugger {
	d := debugger{name: "tinydbg", path: path}
	help := func(sub string) (string, bool) {
		out, err := exec.Command(path, sub, "--help").CombinedOutput()
		return string(out), err == nil && !strings.Contains(string(out), "unknown command")
	}
	execHelp, ok := help("exec")
	if !ok {
		d.noREPL, d.noHeadless = "`tinydbg exec` not available", "`tinydbg exec` not available"
	} else if !strings.Contains(execHelp, "--headless") {
		d.noHeadless = "`tinydbg exec --headless` not available"
	}
	traceHelp, ok := help("trace")
	if !ok {
		d.noTrace, d.noEBPF = "`tinydbg trace` not available", "`tinydbg trace` not available"
	} else if !strings.Contains(traceHelp, "--ebpf") {
		d.noEBPF = "`tinydbg trace --ebpf` not available"
	}
	return d
}

// interleave runs f for every debugger, rep times, alternating the order so
// that a slow drift of the machine does not favour one side.
func interleave(reps int, dbgs []debugger, f func(d debugger) error) error {
	for r := 0; r < reps; r++ {
		for i := range dbgs {
			d := dbgs[(i+r)%len(dbgs)]
			if err := f(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadavg returns the first three fields of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}
