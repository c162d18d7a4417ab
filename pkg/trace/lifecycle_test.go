package trace

import (
	"bytes"
	"context"
	"debug/elf"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf"
)

func TestBadInput(t *testing.T) {
	testenv.RequirePtrace(t)
	path := fixture.Build(t, "traceprog", fixture.Flavour{})
	stripped := fixture.Build(t, "traceprog", fixture.Flavour{NoDWARF: true})
	for _, tc := range []struct {
		name, exec, re, want string
	}{
		{"no match", path, `main\.wrok$`, `no function matches "main\\.wrok$" (did you mean main.work`},
		{"invalid regexp", path, `main.(work`, "invalid regexp \"main.(work\": error parsing regexp: missing closing ): `main.(work`"},
		{"stripped", stripped, `main\.work`, stripped + ": no DWARF debug information (was it built with -ldflags=-w?)"},
		{"missing", "/nonexistent/prog", `main\.work`, "/nonexistent/prog: no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			sum, err := Run(context.Background(), Options{Regexp: tc.re, Exec: tc.exec, Depth: 1}, NewTextWriter(&buf))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line starting %q", err, tc.want)
			}
			if sum.Events != 0 || buf.Len() != 0 {
				t.Fatalf("events after bad input: %+v %q", sum, buf.String())
			}
		})
	}
}

func TestExitCodeAndExitMidTrace(t *testing.T) {
	var buf bytes.Buffer
	sum := runTrace(t, fixture.Flavour{Optimized: true}, Options{Args: []string{"exit", "7"}}, NewGraphWriter(&buf))
	if !sum.Exited || sum.ExitCode != 7 || sum.Events != 12 {
		t.Fatalf("summary %+v", sum)
	}
	buf.Reset()
	var gbuf bytes.Buffer
	sum = runTrace(t, fixture.Flavour{}, Options{Args: []string{"die"}}, Multi{NewTextWriter(&buf), NewGraphWriter(&gbuf)})
	if want := (Summary{Backend: "ptrace", Funcs: 2, Probes: 5, Events: 1, Exited: true, ExitCode: 5}); costOf(t, sum) != want {
		t.Fatalf("summary %+v, want %+v", sum, want)
	}
	if got, want := buf.String(), `> goroutine(1): main.work(5, "job-5", *main.Item {Weight: 5, Tag: "t5"})`+"\n"; got != want {
		t.Fatalf("events kept: %q, want %q", got, want)
	}
	if got, want := gbuf.String(), "goroutine(1):\nmain.work() { } (did not return)\n"; got != want {
		t.Fatalf("graph of an unfinished call: %q, want %q", got, want)
	}
	if got, want := sum.String(), "trace: 1 event, 0 dropped, 5 probes on 2 functions, backend ptrace; program exited with status 5"; got != want {
		t.Fatalf("summary line %q, want %q", got, want)
	}
}

// cancelAfter cancels a context after n returns have been seen.
type cancelAfter struct {
	Sink
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Event(ev *Event) error {
	if ev.Kind == Return {
		if c.n--; c.n == 0 {
			c.cancel()
		}
	}
	return c.Sink.Event(ev)
}

// TestAttachDetach traces a running process, stops on cancellation and
// checks the program runs on with its code as the file has it.
func TestAttachDetach(t *testing.T) {
	testenv.RequirePtrace(t)
	for _, fl := range []fixture.Flavour{{}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			path := fixture.Build(t, "traceprog", fl)
			cmd := startLoop(t, path)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var buf bytes.Buffer
			sink := &cancelAfter{Sink: NewTextWriter(&buf), n: 4, cancel: cancel}
			sum, err := Run(ctx, Options{Regexp: traced, Pid: cmd.Process.Pid, Depth: 1}, sink)
			if err != nil {
				t.Fatal(err)
			}
			if !sum.Interrupted || sum.Exited || sum.Events < 4 {
				t.Fatalf("summary %+v", sum)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			paired := 0
			for _, l := range lines {
				if l == `>> goroutine(1): main.work => (4010,error nil)` {
					paired++
				}
			}
			if paired < 1 || !strings.Contains(buf.String(), `> goroutine(1): main.work(4, "job-4", *main.Item {Weight: 4, Tag: "t4"})`) {
				t.Fatalf("attached trace:\n%s", buf.String())
			}
			// The process still runs, and its code is the file's again.
			time.Sleep(50 * time.Millisecond)
			if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
				t.Fatalf("process gone after detach: %v", err)
			}
			checkCodeRestored(t, path, cmd.Process.Pid)
		})
	}
}

// checkCodeRestored compares the traced functions' code in the process
// with the executable file.
func checkCodeRestored(t *testing.T, path string, pid int) {
	t.Helper()
	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	// The load bias is AT_ENTRY minus the ELF entry (0 without PIE).
	entry, err := ebpf.AuxvEntry(pid)
	if err != nil {
		t.Fatal(err)
	}
	bias := entry - bi.EntryPoint()
	bi.SetLoadBias(bias)
	for _, name := range []string{"main.work", "main.weigh"} {
		fn, err := bi.LookupFunc(name)
		if err != nil {
			t.Fatal(err)
		}
		live := testproc.Memory(t, pid, fn.Entry, int(fn.End-fn.Entry))
		file := make([]byte, len(live))
		for _, p := range bi.ELF().Progs {
			lo := fn.Entry - bias
			if p.Type == elf.PT_LOAD && lo >= p.Vaddr && lo < p.Vaddr+p.Filesz {
				if _, err := p.ReadAt(file, int64(lo-p.Vaddr)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !bytes.Equal(live, file) {
			t.Fatalf("%s: code in the process differs from the file after detach", name)
		}
	}
}

// TestInterruptKillsStartedProgram is what SIGINT does to `trace --exec`:
// the program is killed, the events so far are kept, the summary says so.
func TestInterruptKillsStartedProgram(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var buf bytes.Buffer
	sink := &cancelAfter{Sink: NewTextWriter(&buf), n: 2, cancel: cancel}
	testenv.RequirePtrace(t)
	path := fixture.Build(t, "traceprog", fixture.Flavour{Optimized: true})
	sum, err := Run(ctx, Options{Regexp: traced, Exec: path, Args: []string{"loop"}, Depth: 1}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Summary{Backend: "ptrace", Funcs: 2, Probes: 5, Events: 4, Interrupted: true}); costOf(t, sum) != want {
		t.Fatalf("summary %+v, want %+v", sum, want)
	}
	if !strings.HasSuffix(buf.String(), ">> goroutine(1): main.work => (4010,error nil)\n") {
		t.Fatalf("trace:\n%s", buf.String())
	}
	if got := sum.String(); got != "trace: 4 events, 0 dropped, 5 probes on 2 functions, backend ptrace; interrupted" {
		t.Fatalf("summary line %q", got)
	}
}
