package trace

import (
	"context"
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
