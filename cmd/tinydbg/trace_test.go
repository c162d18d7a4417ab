package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// traceCLI runs the trace command in-process and returns what it printed
// on stderr (the trace and the summary).
func traceCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newTraceCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestTraceCommandExec(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "traceprog", fixture.Flavour{})
	out, err := traceCLI(t, "--exec", bin, `^main\.weigh$`, "--", "exit", "7")
	var ec exitCodeError
	if !errors.As(err, &ec) || ec.code != 7 {
		t.Fatalf("error %v, want exit status 7", err)
	}
	lines := withoutCost(t, out)
	if len(lines) != 7 || lines[0] != `> goroutine(1): main.weigh(*main.Item {Weight: 1, Tag: "t1"})` ||
		lines[1] != ">> goroutine(1): main.weigh => (4)" ||
		lines[6] != "trace: 6 events, 0 dropped, 2 probes on 1 function, backend ptrace; program exited with status 7" {
		t.Fatalf("output:\n%s", out)
	}
}

func TestTraceCommandBuildsPackage(t *testing.T) {
	testenv.RequirePtrace(t)
	t.Chdir(filepath.Join(fixture.Dir(), "traceprog"))
	perf := filepath.Join(t.TempDir(), "p.json")
	out, err := traceCLI(t, "--format", "json", "--perfetto", perf, "--timestamp", `^main\.work$`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := withoutCost(t, out)
	if len(lines) != 7 || !strings.HasPrefix(lines[0], `{"kind":"call","goroutine":1,"thread":`) ||
		!strings.Contains(lines[0], `"function":"main.work","args":[{"name":"n","type":"int","value":"1"}`) ||
		lines[6] != "trace: 6 events, 0 dropped, 3 probes on 1 function, backend ptrace; program exited with status 0" {
		t.Fatalf("output:\n%s", out)
	}
	b, err := os.ReadFile(perf)
	if err != nil || strings.Count(string(b), `"ph":"X"`) != 3 {
		t.Fatalf("perfetto file: %v\n%s", err, b)
	}
}

func TestTraceCommandTimestampAndErrors(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "traceprog", fixture.Flavour{Optimized: true})
	out, err := traceCLI(t, "-e", bin, "--timestamp", "-v", "1", `^main\.weigh$`)
	if err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z > goroutine\(1\): main\.weigh\(it: \*main\.Item \{Weight: 1, Tag: "t1"\}\)$`).MatchString(first) {
		t.Fatalf("first line %q", first)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-e", bin}, "you must supply a regexp for functions to trace"},
		{[]string{"-e", bin, "pkg", "re"}, "cannot specify package when using --exec"},
		{[]string{"-e", bin, "--format", "xml", "re"}, `unknown --format "xml": want text, json or graph`},
		{[]string{"-e", bin, `main\.wrk$`}, `no function matches "main\\.wrk$" (did you mean main.work`},
	} {
		out, err := traceCLI(t, tc.args...)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Fatalf("%v: error %v, want %q\n%s", tc.args, err, tc.want, out)
		}
	}
}

// TestTraceEventsFile writes the events to --events-file while the summary
// stays on stderr; a write error ends the trace with one line.
func TestTraceEventsFile(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "traceprog", fixture.Flavour{})
	for _, backend := range [][]string{nil, {"--ebpf"}} {
		t.Run(backendName(backend), func(t *testing.T) {
			if len(backend) > 0 {
				testenv.RequireRoot(t)
			}
			events := filepath.Join(t.TempDir(), "events")
			args := append(append([]string{}, backend...), "--events-file", events, "--exec", bin, `^main\.weigh$`, "--", "exit", "7")
			out, err := traceCLI(t, args...)
			var ec exitCodeError
			if !errors.As(err, &ec) || ec.code != 7 {
				t.Fatalf("error %v, want exit status 7\n%s", err, out)
			}
			want := "trace: 6 events, 0 dropped, 2 probes on 1 function, backend " + backendName(backend) + "; program exited with status 7"
			if got := withoutCost(t, out); len(got) != 1 || got[0] != want {
				t.Fatalf("stderr %q, want only the summary %q", out, want)
			}
			b, err := os.ReadFile(events)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if err != nil || len(lines) != 6 || lines[1] != ">> goroutine(1): main.weigh => (4)" {
				t.Fatalf("events file (%v):\n%s", err, b)
			}

			args = append(append([]string{}, backend...), "--events-file", "/dev/full", "--exec", bin, `^main\.weigh$`, "--", "loop")
			out, err = traceCLI(t, args...)
			if err == nil || err.Error() != "writing the trace: write /dev/full: no space left on device" {
				t.Fatalf("error %v, want the one write error\n%s", err, out)
			}
			if lines := withoutCost(t, out); len(lines) != 1 || !strings.HasPrefix(lines[0], "trace: ") {
				t.Fatalf("stderr %q, want the summary alone", out)
			}
		})
	}
}

// withoutCost splits a trace's stderr into lines after checking that the
// last one is the cost line, and drops it: its figures are timings.
func withoutCost(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	// "over the N events" when they are fewer than the hits (a condition
	// filtered calls, or calls came after an interrupt's cut).
	if !strings.HasPrefix(last, "trace: cost: ") || !regexp.MustCompile(` per event (over the \d+ events? )?\(`).MatchString(last) {
		t.Fatalf("the trace ends without its cost line:\n%s", out)
	}
	return lines[:len(lines)-1]
}

// TestTraceCompareCommand: --compare runs traceprog under both backends
// and prints the side-by-side table with no difference; with --ebpf it is
// refused in one line.
func TestTraceCompareCommand(t *testing.T) {
	testenv.RequireRoot(t)
	bin := fixture.Build(t, "traceprog", fixture.Flavour{})
	out, err := traceCLI(t, "--compare", "--exec", bin, `^main\.weigh$`, "--", "exit", "7")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	fields := func(i int) string { return strings.Join(strings.Fields(lines[i]), " ") }
	if len(lines) != 8 || fields(0) != "ptrace ebpf" || fields(1) != "events 6 6" || fields(4) != "pointer depth (max) 1 1" ||
		fields(5) != "value bytes loaded 78 78" || lines[7] != "0 differences in 6 events paired by goroutine and sequence (addresses not compared: each run has its own heap)" {
		t.Fatalf("output:\n%s", out)
	}
	_, err = traceCLI(t, "--compare", "--ebpf", "--exec", bin, `^main\.weigh$`)
	if err == nil || err.Error() != "--compare runs the program once under each backend: not with --ebpf, --lossy or --pid" {
		t.Fatalf("error %v", err)
	}
	_, err = traceCLI(t, "--compare", "--format", "json", "--exec", bin, `^main\.weigh$`)
	if err == nil || err.Error() != "--compare prints its own table: not with --format, --perfetto, --events-file or --stack" {
		t.Fatalf("error %v", err)
	}
}

// TestTraceCommandIf runs `trace --if` with both backends on condhot: the
// same two calls of main.hot (i == 3 and i == 35, where i%32 == 3) and
// the summary's count of the 62 filtered ones; a condition the kernel
// cannot run is one line naming why, then the ptrace backend's trace.
func TestTraceCommandIf(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	bin := fixture.Build(t, "condhot", fixture.Flavour{})
	for _, backend := range []string{"ptrace", "ebpf"} {
		args := []string{"-e", bin, "--if", "i%32 == 3", `^main\.hot$`}
		if backend == "ebpf" {
			args = append([]string{"--ebpf"}, args...)
		}
		out, err := traceCLI(t, args...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", backend, err, out)
		}
		lines := withoutCost(t, out)
		// The first call's rec.In.Next is 0x40, which eBPF counts as
		// a value its probe could not read.
		unread := ""
		if backend == "ebpf" {
			unread = "; 1 event with values the probe could not read"
		}
		want := "trace: 4 events, 0 dropped, 2 probes on 1 function, backend " + backend +
			"; 62 calls filtered by the condition, 0 condition faults" + unread + "; program exited with status 0"
		if len(lines) != 5 || !strings.HasPrefix(lines[0], "> goroutine(1): main.hot(3, -73, 6000,") ||
			!strings.HasPrefix(lines[2], "> goroutine(1): main.hot(35, ") || lines[4] != want {
			t.Fatalf("%s: output:\n%s\nwant last line %q", backend, out, want)
		}
	}
	// A slice expression does not compile to BPF: the trace says so in one
	// line and runs it by stopping, with the same calls and counts.
	out, err := traceCLI(t, "--ebpf", "-e", bin, "--if", "i%32 == 3 && len(sl[0:]) >= 0", `^main\.hot$`)
	if err != nil {
		t.Fatalf("uncompilable condition: %v\n%s", err, out)
	}
	lines := withoutCost(t, out)
	why := `trace: attaching eBPF probes: --if "i%32 == 3 && len(sl[0:]) >= 0" at main.hot: condition not compilable to BPF: ` +
		"slice expression; evaluating it by stopping at each call (backend ptrace)"
	want := "trace: 4 events, 0 dropped, 2 probes on 1 function, backend ptrace" +
		"; 62 calls filtered by the condition, 0 condition faults; program exited with status 0"
	if len(lines) != 6 || lines[0] != why || !strings.HasPrefix(lines[1], "> goroutine(1): main.hot(3, -73, 6000,") ||
		!strings.HasPrefix(lines[3], "> goroutine(1): main.hot(35, ") || lines[5] != want {
		t.Fatalf("fallback output:\n%s", out)
	}
}

// TestTracePidNoSuchProcess: `trace --pid` of a pid no process can have
// (the kernel's pid_max) says so in one line on every backend and mode,
// before any build or attach.
func TestTracePidNoSuchProcess(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	for _, mode := range [][]string{nil, {"--ebpf"}, {"--stats"}, {"--stats", "--ebpf"}} {
		out, err := traceCLI(t, append(append([]string{}, mode...), "--pid", pid, `^main\.x$`)...)
		if want := "no process with pid " + pid; err == nil || err.Error() != want || out != "" {
			t.Errorf("trace %v --pid %s: %v, output %q; want %q", mode, pid, err, out, want)
		}
	}
}
