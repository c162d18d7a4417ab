package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
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
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"golang.org/x/sys/unix"
)

// traceHot runs `tinydbg trace` on the waiting hot program with the events
// going to a file, lets the program go, and returns once events arrive.
func traceHot(t *testing.T, pid int, start *os.File, extra ...string) (*exec.Cmd, *bytes.Buffer, string) {
	t.Helper()
	events := filepath.Join(t.TempDir(), "events")
	args := append([]string{"trace", "-p", strconv.Itoa(pid), "--events-file", events}, extra...)
	args = append(args, `^main\.hot$`)
	tr := exec.Command(tinydbgBin, args...)
	var stderr bytes.Buffer
	tr.Stderr = &stderr
	if err := tr.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tr.Process.Kill()
		tr.Wait()
	})
	// The program waits for its line until the probes are in: the first
	// event then surely comes from a probe set before the first call.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no probe after 30s; stderr:\n%s", stderr.String())
		}
		if hasProbes(pid) {
			break
		}
	}
	start.WriteString("go\n")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, err := os.Stat(events); err == nil && st.Size() > 4096 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no events after 30s; stderr:\n%s", stderr.String())
		}
	}
	return tr, &stderr, events
}

// hasProbes tells whether main.hot's entry in pid holds an int3 (a uprobe
// or a ptrace breakpoint), read through /proc/PID/mem.
func hasProbes(pid int) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return false
	}
	return bytes.IndexByte(liveCode(exe, pid), 0xcc) >= 0
}

// liveCode reads main.hot's code in the process (non-PIE fixture: file
// addresses are run-time addresses); nil if it cannot.
func liveCode(exe string, pid int) []byte {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	sym := hotSymbol(exe)
	b := make([]byte, sym[1])
	if _, err := f.ReadAt(b, int64(sym[0])); err != nil {
		return nil
	}
	return b
}

// hotSymbol is main.hot's address and size in exe; zero if it has none.
func hotSymbol(exe string) [2]uint64 {
	f, err := elf.Open(exe)
	if err != nil {
		return [2]uint64{}
	}
	defer f.Close()
	syms, _ := f.Symbols()
	for _, s := range syms {
		if s.Name == "main.hot" {
			return [2]uint64{s.Value, s.Size}
		}
	}
	return [2]uint64{}
}

// backendName names the backend the extra trace flags choose.
func backendName(flags []string) string {
	if len(flags) > 0 {
		return "ebpf"
	}
	return "ptrace"
}

// TestTraceSignalsLeavePidRunning sends SIGINT, SIGTERM and SIGHUP to
// `trace -p` under both backends: each ends the trace with its summary,
// and the program runs on, not stopped, not traced, with no int3 left.
func TestTraceSignalsLeavePidRunning(t *testing.T) {
	testenv.RequirePtrace(t)
	path := fixture.Build(t, "hotargs", fixture.Flavour{Optimized: true})
	for _, backend := range [][]string{nil, {"--ebpf"}} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
			t.Run(fmt.Sprintf("%s/%s", backendName(backend), unix.SignalName(sig)), func(t *testing.T) {
				cmd, start := testproc.StartWaiting(t, path, "HOTARGS_N=0", "HOTARGS_WAIT=1")
				pid := cmd.Process.Pid
				want := liveCode(path, pid)
				tr, stderr, _ := traceHot(t, pid, start, backend...)
				if err := tr.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- tr.Wait() }()
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("tinydbg: %v; stderr:\n%s", err, stderr.String())
					}
				case <-time.After(60 * time.Second):
					t.Fatalf("tinydbg still runs 60s after %v; stderr:\n%s", sig, stderr.String())
				}
				lines := withoutCost(t, stderr.String())
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "trace: ") || !strings.HasSuffix(lines[0], "; interrupted") {
					t.Fatalf("stderr after %v:\n%s", sig, stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
				if st := testproc.State(pid); st != "R" && st != "S" {
					t.Fatalf("program state %q after the trace, want running", st)
				}
				if tp := testproc.TracerPid(pid); tp != 0 {
					t.Fatalf("TracerPid %d after the trace", tp)
				}
				if got := liveCode(path, pid); len(want) == 0 || !bytes.Equal(got, want) {
					t.Fatalf("main.hot after the trace:\n% x\nbefore:\n% x", got, want)
				}
			})
		}
	}
}

// TestTraceTargetKilled SIGKILLs the program mid-trace: the trace ends
// with its summary naming the signal (or, for an eBPF --pid trace, which
// is not the program's parent, that it exited) and no error.
func TestTraceTargetKilled(t *testing.T) {
	testenv.RequirePtrace(t)
	path := fixture.Build(t, "hotargs", fixture.Flavour{Optimized: true})
	for _, tc := range []struct {
		backend []string
		want    string
	}{
		{nil, "backend ptrace; program killed by signal 9"},
		{[]string{"--ebpf"}, "backend ebpf; program exited"},
	} {
		t.Run(backendName(tc.backend), func(t *testing.T) {
			for round := 0; round < 3; round++ {
				cmd, start := testproc.StartWaiting(t, path, "HOTARGS_N=0", "HOTARGS_WAIT=1")
				tr, stderr, _ := traceHot(t, cmd.Process.Pid, start, tc.backend...)
				cmd.Process.Kill()
				done := make(chan error, 1)
				go func() { done <- tr.Wait() }()
				select {
				case err := <-done:
					var ee *exec.ExitError
					if err != nil && !errors.As(err, &ee) {
						t.Fatal(err)
					}
					if err != nil {
						t.Fatalf("round %d: tinydbg: %v; stderr:\n%s", round, err, stderr.String())
					}
				case <-time.After(60 * time.Second):
					t.Fatalf("tinydbg still runs 60s after the program died; stderr:\n%s", stderr.String())
				}
				lines := withoutCost(t, stderr.String())
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "trace: ") || !strings.HasSuffix(lines[0], tc.want) {
					t.Fatalf("round %d: stderr:\n%s\nwant one summary line ending %q", round, stderr.String(), tc.want)
				}
			}
		})
	}
}

// childrenOf lists the children of every thread of pid.
func childrenOf(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, w := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(w); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// TestTraceStartedTargetKilled SIGKILLs a program `trace --exec` started:
// the summary names the signal and tinydbg exits with 128+9, as a shell
// reports the program's own death.
func TestTraceStartedTargetKilled(t *testing.T) {
	testenv.RequirePtrace(t)
	path := fixture.Build(t, "hotargs", fixture.Flavour{Optimized: true})
	for _, backend := range [][]string{nil, {"--ebpf"}} {
		t.Run(backendName(backend), func(t *testing.T) {
			events := filepath.Join(t.TempDir(), "events")
			args := append([]string{"trace", "--events-file", events, "--exec", path}, backend...)
			tr := exec.Command(tinydbgBin, append(args, `^main\.hot$`)...)
			tr.Env = append(os.Environ(), "HOTARGS_N=0")
			var stderr bytes.Buffer
			tr.Stderr = &stderr
			if err := tr.Start(); err != nil {
				t.Fatal(err)
			}
			defer tr.Process.Kill()
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if st, err := os.Stat(events); err == nil && st.Size() > 4096 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no events after 30s; stderr:\n%s", stderr.String())
				}
			}
			kids := childrenOf(tr.Process.Pid)
			if len(kids) != 1 {
				t.Fatalf("tinydbg has children %v, want the program", kids)
			}
			if err := syscall.Kill(kids[0], syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			err := tr.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 128+9 {
				t.Fatalf("tinydbg: %v, want exit status 137; stderr:\n%s", err, stderr.String())
			}
			lines := withoutCost(t, stderr.String())
			if len(lines) != 1 || !strings.HasSuffix(lines[0], "backend "+backendName(backend)+"; program killed by signal 9") {
				t.Fatalf("stderr:\n%s\nwant one summary line naming signal 9", stderr.String())
			}
		})
	}
}

// TestTraceClosedPipe closes the pipe `trace -p` writes its events to (as
// `| head` does): the failed write ends the trace cleanly before tinydbg
// dies of SIGPIPE as a pipeline's writer does, and the program runs on
// untraced with its code intact.
func TestTraceClosedPipe(t *testing.T) {
	testenv.RequirePtrace(t)
	path := fixture.Build(t, "hotargs", fixture.Flavour{Optimized: true})
	for _, backend := range [][]string{nil, {"--ebpf"}} {
		t.Run(backendName(backend), func(t *testing.T) {
			cmd, start := testproc.StartWaiting(t, path, "HOTARGS_N=0", "HOTARGS_WAIT=1")
			pid := cmd.Process.Pid
			want := liveCode(path, pid)
			tr := exec.Command(tinydbgBin, append(append([]string{"trace", "-p", strconv.Itoa(pid)}, backend...), `^main\.hot$`)...)
			rd, err := tr.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.Start(); err != nil {
				t.Fatal(err)
			}
			defer tr.Process.Kill()
			for deadline := time.Now().Add(30 * time.Second); !hasProbes(pid); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no probe after 30s")
				}
			}
			start.WriteString("go\n")
			// A trace that prints nothing must fail the test, not hang it.
			silent := time.AfterFunc(60*time.Second, func() { tr.Process.Kill() })
			line, err := bufio.NewReader(rd).ReadString('\n')
			if !silent.Stop() || err != nil || !strings.HasPrefix(line, "> goroutine(") {
				t.Fatalf("first line %q (%v) (nothing within 60s: killed)", line, err)
			}
			rd.Close()
			err = tr.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGPIPE {
				t.Fatalf("tinydbg: %v, want its death by SIGPIPE once the trace ended", err)
			}
			time.Sleep(50 * time.Millisecond)
			if st := testproc.State(pid); st != "R" && st != "S" {
				t.Fatalf("program state %q after the trace, want running", st)
			}
			if tp := testproc.TracerPid(pid); tp != 0 {
				t.Fatalf("TracerPid %d after the trace", tp)
			}
			if got := liveCode(path, pid); len(want) == 0 || !bytes.Equal(got, want) {
				t.Fatalf("main.hot after the trace:\n% x\nbefore:\n% x", got, want)
			}
		})
	}
}
