package trace

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// loopCycle is what one iteration of `traceprog loop` prints.
var loopCycle = []string{
	`> goroutine(1): main.work(4, "job-4", *main.Item {Weight: 4, Tag: "t4"})`,
	`> goroutine(1): main.weigh(*main.Item {Weight: 4, Tag: "t4"})`,
	`>> goroutine(1): main.weigh => (10)`,
	`>> goroutine(1): main.work => (4010,error nil)`,
}

// checkLoopTrace asserts that text is whole iterations of the loop, after
// at most the tail of one iteration already in flight when probes arrived.
func checkLoopTrace(t *testing.T, text string, minEvents int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	skip := 0
	for skip < len(lines) && lines[skip] != loopCycle[0] {
		skip++
	}
	if skip > 3 || len(lines)-skip < minEvents {
		t.Fatalf("trace is not the loop's iterations:\n%s", text)
	}
	for i, l := range lines[skip:] {
		if l != loopCycle[i%4] {
			t.Fatalf("line %d: %q, want %q\n%s", skip+i, l, loopCycle[i%4], text)
		}
	}
}

// probeWatch is a sink that, at the n-th return, records what the traced
// process looks like while probes are attached, then runs then.
type probeWatch struct {
	Sink
	n        int
	pid      func() int // the traced process, found when first needed
	path     string
	then     func(pid int)
	sawPid   int
	tracer   int    // TracerPid read from /proc/PID/status
	entry    []byte // the first byte of main.work as the process sees it
	linkSeen []int  // uprobe links of this test process, from bpftool
}

func (w *probeWatch) Event(ev *Event) error {
	err := w.Sink.Event(ev)
	if ev.Kind == Return {
		if w.n--; w.n == 0 {
			w.sawPid = w.pid()
			w.tracer = testproc.TracerPid(w.sawPid)
			w.entry = codeAt(w.path, w.sawPid, "main.work", 1)
			w.linkSeen = ourBPFLinks()
			w.then(w.sawPid)
		}
	}
	return err
}

// codeAt reads n bytes at fn's entry probe site (past the stack check) in
// the live process; an attached uprobe shows there as int3 (0xcc),
// written into the process's copy of the page.
func codeAt(path string, pid int, fn string, n int) []byte {
	bi, err := bininfo.Open(path)
	if err != nil {
		return nil
	}
	defer bi.Close()
	entry, err := ebpf.AuxvEntry(pid)
	if err != nil {
		return nil
	}
	bi.SetLoadBias(entry - bi.EntryPoint())
	f, err := bi.LookupFunc(fn)
	if err != nil {
		return nil
	}
	sites, err := probe.FindSites(bi, f)
	if err != nil {
		return nil
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return nil
	}
	defer mem.Close()
	b := make([]byte, n)
	if _, err := mem.ReadAt(b, int64(sites.Entry)); err != nil {
		return nil
	}
	return b
}

// ourBPFLinks lists the ids of the BPF links this test process holds
// open, from the fdinfo of its descriptors: other packages' tests may hold
// links of their own meanwhile, and bpftool here cannot name holders.
func ourBPFLinks() []int {
	infos, _ := filepath.Glob("/proc/self/fdinfo/*")
	var ids []int
	for _, p := range infos {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "link_id:"); ok {
				if id, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					ids = append(ids, id)
				}
			}
		}
	}
	return ids
}

// startLoop starts `traceprog loop` untraced and waits for it to be ready.
func startLoop(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	return testproc.StartReady(t, path, "loop")
}

// TestEBPFPidWithoutPtrace traces a running program with --ebpf --pid: it
// is never ptraced, the events are exact, and after the interruption it
// runs on with no probe left in its code or in the kernel.
func TestEBPFPidWithoutPtrace(t *testing.T) {
	requireBPF(t)
	for _, fl := range []fixture.Flavour{{}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			path := fixture.Build(t, "traceprog", fl)
			cmd := startLoop(t, path)
			pid := cmd.Process.Pid
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var buf bytes.Buffer
			w := &probeWatch{Sink: NewTextWriter(&buf), n: 4, path: path,
				pid: func() int { return pid }, then: func(int) { cancel() }}
			sum, err := Run(ctx, Options{Regexp: traced, Pid: pid, Depth: 1, EBPF: true}, w)
			if err != nil {
				t.Fatal(err)
			}
			if !sum.Interrupted || sum.Exited || sum.Events < 8 || sum.Dropped != 0 || sum.Funcs != 2 {
				t.Fatalf("summary %+v", sum)
			}
			checkLoopTrace(t, buf.String(), 8)
			if w.tracer != 0 {
				t.Fatalf("TracerPid %d while tracing, want 0", w.tracer)
			}
			if len(w.entry) != 1 || w.entry[0] != 0xcc {
				t.Fatalf("main.work's entry while tracing: % x, want the uprobe's int3", w.entry)
			}
			time.Sleep(30 * time.Millisecond)
			if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
				t.Fatalf("process gone after the trace: %v", err)
			}
			if tp := testproc.TracerPid(pid); tp != 0 {
				t.Fatalf("TracerPid %d after the trace", tp)
			}
			checkCodeRestored(t, path, pid)
			checkLinksGone(t, w.linkSeen)
		})
	}
}

// checkLinksGone fails if a link seen during the trace still exists.
func checkLinksGone(t *testing.T, seen []int) {
	t.Helper()
	if len(seen) == 0 {
		t.Fatalf("no BPF link of this process seen during the trace")
	}
	if left := ourBPFLinks(); len(left) != 0 {
		t.Fatalf("BPF links %v still open after the trace", left)
	}
	if _, err := exec.LookPath("bpftool"); err != nil {
		return
	}
	// The kernel's own view: a link lives on while any holder remains.
	for _, id := range seen {
		if out, err := exec.Command("bpftool", "link", "show", "id", strconv.Itoa(id)).CombinedOutput(); err == nil {
			t.Fatalf("link %d still exists after the trace:\n%s", id, out)
		}
	}
}

// childOf finds our child process running path.
func childOf(t *testing.T, path string) int {
	t.Helper()
	ents, _ := filepath.Glob("/proc/[0-9]*/exe")
	for _, e := range ents {
		if exe, err := os.Readlink(e); err != nil || exe != path {
			continue
		}
		pid, _ := strconv.Atoi(strings.Split(e, "/")[2])
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) {
			return pid
		}
	}
	t.Errorf("no child process runs %s", path)
	return 0
}

// TestEBPFExecKilledMidTrace starts the program with --ebpf --exec: once
// it runs it is not ptraced; killed by SIGKILL, the trace still ends with
// the events so far and a summary naming the signal.
func TestEBPFExecKilledMidTrace(t *testing.T) {
	requireBPF(t)
	path := fixture.Build(t, "traceprog", fixture.Flavour{Optimized: true, PIE: true})
	var buf bytes.Buffer
	w := &probeWatch{Sink: NewTextWriter(&buf), n: 4, path: path,
		pid:  func() int { return childOf(t, path) },
		then: func(pid int) { syscall.Kill(pid, syscall.SIGKILL) }}
	sum, err := Run(context.Background(), Options{Regexp: traced, Exec: path, Args: []string{"loop"}, Depth: 1, EBPF: true,
		Stdout: testproc.DevNull(t)}, w)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Exited || sum.Signal != 9 || sum.Interrupted || sum.Events < 8 || sum.Dropped != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if want := fmt.Sprintf("trace: %d events, 0 dropped, 5 probes on 2 functions, backend ebpf; program killed by signal 9", sum.Events); sum.String() != want {
		t.Fatalf("summary line %q, want %q", sum.String(), want)
	}
	checkLoopTrace(t, buf.String(), 8)
	if w.tracer != 0 {
		t.Fatalf("TracerPid %d once the program runs, want 0", w.tracer)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", w.sawPid)); err == nil {
		t.Fatalf("process %d left behind (not reaped)", w.sawPid)
	}
	checkLinksGone(t, w.linkSeen)
}

// TestEBPFExecInterrupted is SIGINT during `trace --ebpf --exec`: the
// program is killed and reaped, the events so far are kept.
func TestEBPFExecInterrupted(t *testing.T) {
	requireBPF(t)
	path := fixture.Build(t, "traceprog", fixture.Flavour{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var buf bytes.Buffer
	w := &probeWatch{Sink: NewTextWriter(&buf), n: 2, path: path,
		pid: func() int { return childOf(t, path) }, then: func(int) { cancel() }}
	sum, err := Run(ctx, Options{Regexp: traced, Exec: path, Args: []string{"loop"}, Depth: 1, EBPF: true,
		Stdout: testproc.DevNull(t)}, w)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Interrupted || sum.Exited || sum.Events < 4 {
		t.Fatalf("summary %+v", sum)
	}
	if !strings.HasSuffix(sum.String(), "backend ebpf; interrupted") {
		t.Fatalf("summary line %q", sum.String())
	}
	checkLoopTrace(t, buf.String(), 4)
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", w.sawPid)); err == nil {
		t.Fatalf("process %d left behind", w.sawPid)
	}
}

// TestEBPFExitCode: the started program's exit status is passed through.
func TestEBPFExitCode(t *testing.T) {
	requireBPF(t)
	var buf bytes.Buffer
	sum := runTrace(t, fixture.Flavour{PIE: true}, Options{EBPF: true, Args: []string{"exit", "7"}}, NewTextWriter(&buf))
	if want := (Summary{Backend: "ebpf", Funcs: 2, Probes: 5, Events: 12, Exited: true, ExitCode: 7}); costOf(t, sum) != want {
		t.Fatalf("summary %+v, want %+v", sum, want)
	}
	g2, g3 := goroutinesOf(t, buf.String())
	if first := strings.SplitN(buf.String(), "\n", 2)[0]; first != strings.SplitN(expand(wantText, g2, g3), "\n", 2)[0] {
		t.Fatalf("first line %q", first)
	}
}
