package compat

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-delve/delve/service/api"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// The differential test stops tinydbg and Delve at the first hit of real
// functions of real programs and compares what each shows. By default it
// runs a fixed slice (gofmt, two builds, the functions in sliceFunctions)
// and fails on any disagreement not in knownDifferences. With
// TINYDBG_DIFFERENTIAL=full it runs every program, build and toolchain,
// choosing the functions from each binary's symbol table with a fixed seed,
// and writes the table and every disagreement to
// TINYDBG_DIFFERENTIAL_OUT (default testdata/differential-results.txt).
// TINYDBG_DIFFERENTIAL_ONLY=prog/build,… and TINYDBG_DIFFERENTIAL_FUNCS=
// f|g narrow a run to some builds and functions, to look at one stop again.

// sliceFunctions are gofmt's functions the default slice stops at, each
// called by its workload in both builds: its own code and closures (one a
// goroutine's), method values, generic instances, defer wrappers, go/*.
var sliceFunctions = []string{
	"main.processFile",
	"main.gofmtMain.func3.1",
	"main.simplifier.Visit",
	"go/parser.(*parser).parseValueSpec-fm",
	"go/parser.(*parser).parseBinaryExpr",
	"slices.pdqsortCmpFunc[go.shape.interface { End() go/token.Pos; Pos() go/token.Pos; go/ast.specNode() }]",
	"sync.OnceValue[go.shape.bool]",
	"go/printer.(*printer).commentSizeBefore.deferwrap1",
	"go/ast.sortSpecs.func1",
	"text/tabwriter.(*Writer).flush",
	"internal/diff.Diff",
}

func TestDifferential(t *testing.T) {
	testenv.RequirePtrace(t)
	if dlvErr != nil {
		testenv.SkipOrFail(t, "no dlv %s: %v", dlvVersion, dlvErr)
	}
	full := os.Getenv("TINYDBG_DIFFERENTIAL") == "full"
	var builds []diffBuild
	for _, p := range diffPrograms() {
		if !full && p.name != "gofmt" {
			continue
		}
		toolchains := []string{""}
		if full {
			toolchains = fixture.Toolchains
		}
		for _, tc := range toolchains {
			for _, opt := range []bool{false, true} {
				f := fixture.Flavour{Optimized: opt, Toolchain: tc}
				if only := os.Getenv("TINYDBG_DIFFERENTIAL_ONLY"); only != "" && !slices.Contains(strings.Split(only, ","), p.name+"/"+f.Name()) {
					continue
				}
				b, err := buildDiff(p, f)
				if err != nil {
					t.Fatal(err)
				}
				builds = append(builds, b)
			}
		}
	}
	perBuild := 18
	if n, err := strconv.Atoi(os.Getenv("TINYDBG_DIFFERENTIAL_STOPS")); err == nil {
		perBuild = n
	}
	if perBuild == 0 {
		return // only the builds were asked for
	}
	tallies := map[string]*tally{}
	var order []string
	var all []disagreement
	var notes []string
	deadline := time.Now().Add(time.Duration(envInt("TINYDBG_DIFFERENTIAL_MINUTES", 600)) * time.Minute)
	for _, b := range builds {
		fns := sliceFunctions
		if only := os.Getenv("TINYDBG_DIFFERENTIAL_FUNCS"); only != "" {
			// To look again at a few stops: names split at "|", as shape
			// names hold commas and semicolons.
			fns = strings.Split(only, "|")
		} else if full {
			var err error
			fns, err = chooseFunctions(b, perBuild)
			if err != nil {
				notes = append(notes, fmt.Sprintf("%s: choosing functions: %v", b.label(), err))
				continue
			}
			notes = append(notes, fmt.Sprintf("%s: %s", b.label(), strings.Join(fns, " ")))
		}
		order = append(order, b.label())
		tl := &tally{}
		tallies[b.label()] = tl
		for _, fn := range fns {
			if time.Now().After(deadline) {
				notes = append(notes, fmt.Sprintf("%s: time budget spent before %s", b.label(), fn))
				break
			}
			start := time.Now()
			r := runStop(b, fn)
			st, ds := judge(r)
			if r.err != "" {
				notes = append(notes, fmt.Sprintf("%s %s: %s", b.label(), fn, r.err))
			}
			tl.add(st)
			all = append(all, ds...)
			t.Logf("%s %s: %d/%d agree (%v)", b.label(), fn, st.agree, st.items, time.Since(start).Round(time.Millisecond))
			if os.Getenv("TINYDBG_DIFFERENTIAL_DUMP") != "" {
				for _, item := range diffItems {
					t.Logf("  %s\n    tinydbg: %q\n    dlv:     %q\n    control: %q", item, r.tiny[item], r.dlv[item], r.ctl[item])
				}
			}
		}
	}
	var buf bytes.Buffer
	writeReport(&buf, order, tallies, all, knownDifferences, notes)
	if full {
		out := os.Getenv("TINYDBG_DIFFERENTIAL_OUT")
		if out == "" {
			out = "testdata/differential-results.txt"
		}
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", out)
		return
	}
	t.Logf("\n%s", buf.String())
	seen := map[string]bool{}
	for _, d := range all {
		seen[d.key()] = true
		if d.class == "R" {
			// Which runtime goroutines had parked by the stop depends on the
			// run's timing, not on the debugger.
			t.Logf("run-dependent: %s", d)
			continue
		}
		if _, ok := knownDifferences[d.key()]; !ok {
			t.Errorf("unexplained disagreement: %s", d)
		}
	}
	for k := range knownDifferences {
		if !seen[k] {
			// Fixed, or gone another way: the list should lose the entry.
			t.Logf("known difference no longer seen: %s", k)
		}
	}
	for _, b := range order {
		if tl := tallies[b]; tl.failed > 0 || tl.stops == 0 {
			t.Errorf("%s: %d stops ran, %d failed", b, tl.stops, tl.failed)
		}
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// chooseFunctions runs b once under Delve with a breakpoint on each of up
// to 400 candidates and keeps those the workload really calls, then picks
// n of them with pickHit.
func chooseFunctions(b diffBuild, n int) ([]string, error) {
	cands, err := candidates(b)
	if err != nil {
		return nil, err
	}
	if len(cands) > 400 {
		cands = cands[:400]
	}
	env := sessionEnv(b)
	s, err := startSession("dlv", dlvArgv(), b.bin, diffCache(), b.prog.argsFor(b.goroot), env)
	if err != nil {
		return nil, err
	}
	defer s.close()
	ids := map[int]string{}
	for _, fn := range cands {
		var bp *api.Breakpoint
		if err := s.call(20*time.Second, func() error {
			var err error
			bp, err = s.client.CreateBreakpoint(&api.Breakpoint{FunctionName: fn})
			return err
		}); err == nil {
			ids[bp.ID] = fn
		} else if s.broken != nil {
			return nil, err
		}
	}
	hit := map[string]bool{}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		var last *api.DebuggerState
		err := s.call(time.Until(deadline), func() error {
			for st := range s.client.Continue() {
				last = st
			}
			if last == nil {
				return fmt.Errorf("no state")
			}
			return last.Err
		})
		if err != nil || last.Exited {
			break
		}
		for _, th := range last.Threads {
			if th.Breakpoint != nil && ids[th.Breakpoint.ID] != "" {
				hit[ids[th.Breakpoint.ID]] = true
				id := th.Breakpoint.ID
				delete(ids, id)
				_ = s.call(20*time.Second, func() error { _, err := s.client.ClearBreakpoint(id); return err })
			}
		}
	}
	return pickHit(cands, hit, n), nil
}
