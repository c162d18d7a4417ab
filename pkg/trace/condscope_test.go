package trace

import (
	"context"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
)

// TestTraceIfNotInScope: a --if condition naming what some matched
// function lacks is refused before any probe, on both backends, in one
// line naming the symbol and the functions; a started program is killed
// before it ran, an attached one runs on, untraced. Names that resolve
// (a package variable, a package-qualified one, builtins, conversions)
// are not refused.
func TestTraceIfNotInScope(t *testing.T) {
	path := fixture.Build(t, "condloop", fixture.Flavour{})
	sleeper := fixture.Build(t, "sleeper", fixture.Flavour{})
	for _, ebpf := range []bool{false, true} {
		if ebpf {
			testenv.RequireRoot(t)
		} else {
			testenv.RequirePtrace(t)
		}
		sink := &listSink{}
		sum, err := Run(context.Background(), Options{Regexp: `^main\.(hot|arg)$`, Exec: path, EBPF: ebpf,
			Cond: "i == 3", Args: []string{"5"}, Stdout: testproc.DevNull(t)}, sink)
		const want = `--if "i == 3": i is not in scope in main.arg; nothing traced (narrow the regexp to functions that have it)`
		if err == nil || err.Error() != want || sum.Probes != 0 || len(sink.lines) != 0 {
			t.Fatalf("ebpf=%v: %v, %d probes, events %v; want %q", ebpf, err, sum.Probes, sink.lines, want)
		}

		cmd := testproc.StartPid(t, sleeper)
		pid := cmd.Process.Pid
		sum, err = Run(context.Background(), Options{Regexp: `^main\.tick$`, Pid: pid, EBPF: ebpf,
			Cond: "nosuch > 0 && os.NoSuch == 1 && ticks >= 0 && len(os.Args) > 0 && int8(i) >= 0"}, &listSink{})
		const wantPid = `--if "nosuch > 0 && os.NoSuch == 1 && ticks >= 0 && len(os.Args) > 0 && int8(i) >= 0": ` +
			`nosuch is not in scope in main.tick; os.NoSuch is not in scope in main.tick; nothing traced (narrow the regexp to functions that have it)`
		if err == nil || err.Error() != wantPid || sum.Probes != 0 {
			t.Fatalf("ebpf=%v --pid: %v, %d probes; want %q", ebpf, err, sum.Probes, wantPid)
		}
		if tr, st := testproc.TracerPid(pid), testproc.State(pid); tr != 0 || st == "" || st == "T" {
			t.Fatalf("ebpf=%v: attached program left with tracer %d, state %q", ebpf, tr, st)
		}
		if links := ourBPFLinks(); len(links) != 0 {
			t.Fatalf("ebpf=%v: BPF links left: %v", ebpf, links)
		}
	}
}

// TestStatsRefusesIf: --stats with --if is refused on both backends,
// before the program starts or is attached, as neither aggregation
// filters calls: figures over every call must not pass for the
// condition's.
func TestStatsRefusesIf(t *testing.T) {
	sleeper := fixture.Build(t, "sleeper", fixture.Flavour{})
	for _, ebpf := range []bool{false, true} {
		if ebpf {
			testenv.RequireRoot(t)
		} else {
			testenv.RequirePtrace(t)
		}
		cmd := testproc.StartPid(t, sleeper)
		pid := cmd.Process.Pid
		var out strings.Builder
		res, err := RunStats(context.Background(), Options{Regexp: `^main\.tick$`, Pid: pid, EBPF: ebpf, Cond: "i > 2"}, 0, &out)
		const want = "--stats does not apply --if: drop --if, or trace without --stats to see the calls it selects"
		if err == nil || err.Error() != want || res.Summary.Probes != 0 || out.Len() != 0 {
			t.Fatalf("ebpf=%v: %v, %d probes, output %q; want %q", ebpf, err, res.Summary.Probes, out.String(), want)
		}
		if tr, st := testproc.TracerPid(pid), testproc.State(pid); tr != 0 || st == "" || st == "T" {
			t.Fatalf("ebpf=%v: program left with tracer %d, state %q", ebpf, tr, st)
		}
	}
}

// TestStatsEventsBothBackends: the --stats summary counts the same events
// on both backends, every call and return of the figures: hotloop's four
// goroutines call main.hot 25 times each, 200 events.
func TestStatsEventsBothBackends(t *testing.T) {
	t.Setenv("HOTLOOP_N", "25")
	path := fixture.Build(t, "hotloop", fixture.Flavour{})
	for _, ebpf := range []bool{false, true} {
		if ebpf {
			testenv.RequireRoot(t)
		} else {
			testenv.RequirePtrace(t)
		}
		var out strings.Builder
		res, err := RunStats(context.Background(), Options{Regexp: `^main\.hot$`, Exec: path, EBPF: ebpf,
			Stdout: testproc.DevNull(t)}, 0, &out)
		if err != nil {
			t.Fatalf("ebpf=%v: %v\n%s", ebpf, err, out.String())
		}
		if len(res.Funcs) != 1 || res.Funcs[0].Calls != 100 || res.Funcs[0].Hist.Count() != 100 || res.Missed != 0 {
			t.Fatalf("ebpf=%v: figures %+v, missed %d", ebpf, res.Funcs, res.Missed)
		}
		want := "trace: 200 events, 0 dropped, 2 probes on 1 function, backend " + res.Summary.Backend
		if got := res.Summary.String(); res.Summary.Events != 200 || !strings.HasPrefix(got, want) {
			t.Errorf("ebpf=%v: summary %q, want it to start %q", ebpf, got, want)
		}
	}
}
