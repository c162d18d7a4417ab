package compat

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-delve/delve/service/api"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestDifferentialRerun runs one stop of the differential again, several
// times under each debugger one after the other, to tell a difference the
// run decides (the data, the goroutines' order) from one a debugger makes.
// It is a tool, run by hand:
//
//	TINYDBG_RERUN=go/opt TINYDBG_RERUN_FUNC='slices.partitionOrdered[go.shape.string]'
//	TINYDBG_RERUN_N=5 TINYDBG_RERUN_MOVES=next,next,next,step,stepout
//	TINYDBG_RERUN_EVAL='x|y' go test -run TestDifferentialRerun -v
//
// Each run stops at the function's first hit, makes the moves and, after
// each, evaluates the expressions. With TINYDBG_RERUN_COUNT=1 it instead
// counts the function's hits until the program exits.
func TestDifferentialRerun(t *testing.T) {
	label := os.Getenv("TINYDBG_RERUN")
	if label == "" {
		t.Skip("a tool: TINYDBG_RERUN=prog/build names the stop to run again")
	}
	testenv.RequirePtrace(t)
	if dlvErr != nil {
		testenv.SkipOrFail(t, "no dlv %s: %v", dlvVersion, dlvErr)
	}
	b := rerunBuild(t, label)
	fn := os.Getenv("TINYDBG_RERUN_FUNC")
	n := envInt("TINYDBG_RERUN_N", 5)
	var moves, exprs []string
	if m := os.Getenv("TINYDBG_RERUN_MOVES"); m != "" {
		moves = strings.Split(m, ",")
	}
	if e := os.Getenv("TINYDBG_RERUN_EVAL"); e != "" {
		exprs = strings.Split(e, "|")
	}
	counting := os.Getenv("TINYDBG_RERUN_COUNT") != ""
	debuggers := map[string][]string{"tinydbg": {tinydbgBin}, "dlv": dlvArgv()}
	dist := map[string]map[string]int{}
	for i := range n {
		for _, who := range []string{"tinydbg", "dlv"} {
			var got []string
			var err error
			if counting {
				got, err = countHits(b, debuggers[who], who, fn)
			} else {
				got, err = rerunStop(b, debuggers[who], who, fn, moves, exprs)
			}
			if err != nil {
				t.Errorf("run %d under %s: %v", i+1, who, err)
				continue
			}
			t.Logf("run %d %s:\n  %s", i+1, who, strings.Join(got, "\n  "))
			if dist[who] == nil {
				dist[who] = map[string]int{}
			}
			dist[who][lastMove(got)]++
		}
	}
	for _, who := range []string{"tinydbg", "dlv"} {
		t.Logf("%s: where %d runs ended: %v", who, n, dist[who])
	}
}

// lastMove is the last line that is not an expression's value.
func lastMove(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if !strings.HasPrefix(lines[i], " ") {
			return lines[i]
		}
	}
	return ""
}

func rerunBuild(t *testing.T, label string) diffBuild {
	t.Helper()
	name, fl, _ := strings.Cut(label, "/")
	for _, p := range diffPrograms() {
		if p.name != name {
			continue
		}
		for _, tc := range fixture.Toolchains {
			for _, opt := range []bool{false, true} {
				f := fixture.Flavour{Optimized: opt, Toolchain: tc}
				if f.Name() == fl {
					b, err := buildDiff(p, f)
					if err != nil {
						t.Fatal(err)
					}
					return b
				}
			}
		}
	}
	t.Fatalf("no build %q", label)
	return diffBuild{}
}

// rerunStop stops at fn's first hit under one debugger and makes the
// moves, returning where each left the program and the expressions'
// values there.
func rerunStop(b diffBuild, debugger []string, who, fn string, moves, exprs []string) ([]string, error) {
	s, err := startSession(who, debugger, b.bin, diffCache(), b.prog.argsFor(b.goroot), sessionEnv(b))
	if err != nil {
		return nil, err
	}
	defer s.close()
	out := setBreakpoint(s, fn)
	out = append(out, "hit "+first(continueToHit(s)))
	out = append(out, evalAll(s, exprs)...)
	for _, m := range moves {
		out = append(out, m+" "+first(move(s, m)))
		out = append(out, evalAll(s, exprs)...)
	}
	return out, nil
}

func evalAll(s *debugSession, exprs []string) []string {
	out := make([]string, 0, len(exprs))
	for _, e := range exprs {
		v, err := evalIn(s, e)
		if err != nil {
			out = append(out, fmt.Sprintf("    %s: error: %v", e, err))
			continue
		}
		out = append(out, fmt.Sprintf("    %s = %s", e, renderValue(*v)))
	}
	return out
}

// evalIn evaluates e in the selected goroutine's frame.
func evalIn(s *debugSession, e string) (*api.Variable, error) {
	var v *api.Variable
	err := s.call(20*time.Second, func() error {
		var err error
		v, err = s.client.EvalVariable(api.EvalScope{GoroutineID: -1}, e, diffLoadConfig)
		return err
	})
	return v, err
}

// countHits runs the program to its end under one debugger with a
// breakpoint on fn, counting the stops there and the goroutines they
// were in.
func countHits(b diffBuild, debugger []string, who, fn string) ([]string, error) {
	s, err := startSession(who, debugger, b.bin, diffCache(), b.prog.argsFor(b.goroot), sessionEnv(b))
	if err != nil {
		return nil, err
	}
	defer s.close()
	bp := setBreakpoint(s, fn)
	hits := 0
	var gs []int64
	end := ""
	for hits < 1000 {
		last, err := continueSession(s)
		if err != nil {
			// An exit comes back as an error from some servers.
			end = "ended: " + err.Error()
			break
		}
		if last.Exited {
			end = fmt.Sprintf("exited %d", last.ExitStatus)
			break
		}
		hits++
		if g := last.SelectedGoroutine; g != nil && !slices.Contains(gs, g.ID) {
			gs = append(gs, g.ID)
		}
	}
	return []string{first(bp), fmt.Sprintf("goroutines %v, %s", gs, end), fmt.Sprintf("hits %d", hits)}, nil
}

// TestDifferentialPartitionStepOut proves the N8 items of cmd/go's
// optimized builds run-dependent, not a debugger's doing: a stepout of the
// cmp.Less inlined in partitionOrdered's first loop (zsortordered.go:141)
// returns to `i++` (142) when data[i] < data[a] and to the second loop
// (144) when not, and which holds depends on the order of the import
// paths being sorted, which comes from a map and so changes with every
// process. Each run reads the two strings at the function's entry,
// predicts the line, and checks that tinydbg, and Delve, land on it.
func TestDifferentialPartitionStepOut(t *testing.T) {
	testenv.RequirePtrace(t)
	if dlvErr != nil {
		testenv.SkipOrFail(t, "no dlv %s: %v", dlvVersion, dlvErr)
	}
	// It builds cmd/go and runs it under both debuggers: part of `make
	// differential` (which builds the same binary), not of `make test`.
	if os.Getenv("TINYDBG_DIFFERENTIAL") == "" {
		t.Skip("runs with the differential: TINYDBG_DIFFERENTIAL=1, or full for go1.22 as well")
	}
	flavours := []fixture.Flavour{{Optimized: true}}
	if os.Getenv("TINYDBG_DIFFERENTIAL") == "full" {
		flavours = append(flavours, fixture.Flavour{Optimized: true, Toolchain: "go1.22.12"})
	}
	const fn = "slices.partitionOrdered[go.shape.string]"
	n := envInt("TINYDBG_RERUN_N", 2)
	for _, f := range flavours {
		b := rerunBuild(t, "go/"+f.Name())
		seen := map[string]map[int]int{}
		for range n {
			for _, who := range []string{"tinydbg", "dlv"} {
				debugger := dlvArgv()
				if who == "tinydbg" {
					debugger = []string{tinydbgBin}
				}
				got, want, why, err := partitionStepOut(b, debugger, who, fn)
				if err != nil {
					t.Errorf("%s %s: %v", b.label(), who, err)
					continue
				}
				t.Logf("%s %s: %s: stepout to %d", b.label(), who, why, got)
				if got != want {
					t.Errorf("%s %s: stepout of cmp.Less went to line %d; the data sends it to %d", b.label(), who, got, want)
				}
				if seen[who] == nil {
					seen[who] = map[int]int{}
				}
				seen[who][got]++
			}
		}
		t.Logf("%s: lines after stepout, per debugger: %v", b.label(), seen)
	}
}

// partitionStepOut runs one partitionOrdered stop under one debugger and
// returns the line stepout went to, the line the data dictates and why.
func partitionStepOut(b diffBuild, debugger []string, who, fn string) (got, want int, why string, err error) {
	s, err := startSession(who, debugger, b.bin, diffCache(), b.prog.argsFor(b.goroot), sessionEnv(b))
	if err != nil {
		return 0, 0, "", err
	}
	defer s.close()
	setBreakpoint(s, fn)
	if hit := first(continueToHit(s)); !strings.HasPrefix(hit, fn+" ") {
		return 0, 0, "", fmt.Errorf("no stop in %s: %s", fn, hit)
	}
	// The function first swaps data[a] and data[pivot]; the first Less
	// then compares data[a+1] (after the swap) with the pivot's value.
	vals := map[string]string{}
	for _, e := range []string{"a", "pivot", "len(data)"} {
		v, err := evalString(s, e)
		if err != nil {
			return 0, 0, "", err
		}
		vals[e] = v
	}
	if vals["a"] != "0" {
		return 0, 0, "", fmt.Errorf("a = %s at the first hit, not 0", vals["a"])
	}
	firstIdx := "1"
	if vals["pivot"] == "1" {
		firstIdx = "0"
	}
	x, err := evalString(s, "data["+firstIdx+"]")
	if err != nil {
		return 0, 0, "", err
	}
	p, err := evalString(s, "data[pivot]")
	if err != nil {
		return 0, 0, "", err
	}
	if n, err := strconv.Atoi(vals["len(data)"]); err != nil || n < 3 {
		return 0, 0, "", fmt.Errorf("len(data) = %s: the first loop may not run", vals["len(data)"])
	}
	want, why = 144, fmt.Sprintf("pivot %s, Less(%q, %q) = false", vals["pivot"], x, p)
	if x < p {
		want, why = 142, fmt.Sprintf("pivot %s, Less(%q, %q) = true", vals["pivot"], x, p)
	}
	for i, m := range []string{"next", "next", "next", "step", "stepout"} {
		loc := first(move(s, m))
		if i == 2 && lineOf(loc) != 141 {
			return 0, 0, "", fmt.Errorf("three nexts from the entry went to %s, not line 141", loc)
		}
		if i == 3 && !strings.Contains(loc, " cmp/cmp.go:29 ") {
			return 0, 0, "", fmt.Errorf("step at line 141 went to %s, not into cmp.Less", loc)
		}
		if i == 4 {
			if !strings.HasPrefix(loc, fn+" slices/zsortordered.go:") {
				return 0, 0, "", fmt.Errorf("stepout went to %s", loc)
			}
			got = lineOf(loc)
		}
	}
	return got, want, why, nil
}

// evalString evaluates e in the selected goroutine's frame and returns
// its value as the client gets it (a string's contents, a number's digits).
func evalString(s *debugSession, e string) (string, error) {
	v, err := evalIn(s, e)
	if err != nil {
		return "", fmt.Errorf("%s: %w", e, err)
	}
	if v.Unreadable != "" {
		return "", fmt.Errorf("%s: unreadable: %s", e, v.Unreadable)
	}
	if reflect.Kind(v.Kind) == reflect.String && int64(len(v.Value)) != v.Len {
		return "", fmt.Errorf("%s: %d of %d bytes loaded", e, len(v.Value), v.Len)
	}
	return v.Value, nil
}
