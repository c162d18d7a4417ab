package ebpf

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// hotCalls is the number of main.hot calls _fixtures/hotloop makes: 4
// goroutines × HOTLOOP_N.
const hotPerG = 100000

// loopNs runs cmd (which runs hotloop with HOTLOOP_OUT set to out) and
// returns the loop's own duration as hotloop measured it.
func loopNs(t *testing.T, out string) time.Duration {
	t.Helper()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("hotloop wrote no timing: %v", err)
	}
	var calls, ns int64
	if _, err := fmt.Sscanf(string(b), "calls=%d loop_ns=%d", &calls, &ns); err != nil || calls != 4*hotPerG {
		t.Fatalf("bad hotloop timing %q: %v", b, err)
	}
	os.Remove(out)
	return time.Duration(ns)
}

func hotEnv(out string) []string {
	return append(os.Environ(), fmt.Sprintf("HOTLOOP_N=%d", hotPerG), "HOTLOOP_OUT="+out, "GOMAXPROCS=2")
}

// startPaused starts path behind a shell that stops itself before exec, so
// probes can be attached to the pid before the first instruction of the
// program runs.
func startPaused(t *testing.T, path string, env []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", `kill -STOP $$; exec "$0"`, path)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if err == nil {
			f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+1:])
			if len(f) > 0 && f[0] == "T" {
				return cmd
			}
		}
		if i > 2000 {
			t.Fatalf("shell never stopped")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestOverheadHotloop measures what tracing main.hot costs per call, next
// to an untraced run and to bpftrace counting calls with a bare uprobe. It
// is a measurement, not a check of behaviour, so it runs only when
// TINYDBG_EBPF_BENCH=1; `go test -run Overhead -v` prints the figures.
func TestOverheadHotloop(t *testing.T) {
	if os.Getenv("TINYDBG_EBPF_BENCH") == "" {
		t.Skip("set TINYDBG_EBPF_BENCH=1 to measure the tracing overhead")
	}
	requireBPF(t)
	path := fixture.Build(t, "hotloop", fixture.Flavour{Optimized: true})
	out := filepath.Join(t.TempDir(), "timing")
	const reps = 3
	// Each figure is the best of reps runs; other work on the machine
	// only ever adds time.
	// cpu is the CPU time (user and system) a run cost: the probes run
	// in the traced threads' context, and the tracer's own reader is
	// added for tinydbg. Unlike the loop's wall time it hardly depends on
	// what else the machine runs.
	var cpu time.Duration
	best := func(f func() time.Duration) (wall, minCPU time.Duration) {
		for i := 0; i < reps; i++ {
			cpu = 0
			d := f()
			if wall == 0 || d < wall {
				wall = d
			}
			if minCPU == 0 || cpu < minCPU {
				minCPU = cpu
			}
		}
		return wall, minCPU
	}
	untraced, untracedCPU := best(func() time.Duration {
		cmd := exec.Command(path)
		cmd.Env = hotEnv(out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("hotloop: %v\n%s", err, b)
		}
		cpu = childCPU(cmd)
		return loopNs(t, out)
	})
	bpftrace := func(script string) (time.Duration, time.Duration) {
		if _, err := exec.LookPath("bpftrace"); err != nil {
			t.Logf("bpftrace not installed")
			return 0, 0
		}
		return best(func() time.Duration {
			cmd := exec.Command("bpftrace", "-e", script, "-c", path)
			cmd.Env = hotEnv(out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("bpftrace: %v\n%s", err, b)
			}
			cpu = childCPU(cmd) // bpftrace and hotloop, its reaped child
			return loopNs(t, out)
		})
	}
	bare, bareCPU := bpftrace(fmt.Sprintf("uprobe:%s:main.hot { @c = count(); }", path))

	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	funcs := lookupFuncs(t, bi, "main.hot")
	var drain time.Duration
	var events uint64
	ours, oursCPU := best(func() time.Duration {
		self := selfCPU()
		cmd := startPaused(t, path, hotEnv(out))
		tr, err := Open(bi, cmd.Process.Pid, funcs, Options{})
		if err != nil {
			cmd.Process.Kill()
			t.Fatal(err)
		}
		res := make(chan uint64)
		go func() {
			n := uint64(0)
			for ev := range tr.Events() {
				if ev.Err != nil || len(ev.Values) != 1 {
					t.Errorf("bad event %+v", ev)
				}
				n++
			}
			res <- n
		}()
		cmd.Process.Signal(syscall.SIGCONT)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("hotloop: %v", err)
		}
		start := time.Now()
		tr.Close()
		events = <-res
		drain = time.Since(start)
		cpu = childCPU(cmd) + selfCPU() - self
		if st := tr.Stats(); st.Dropped != 0 || events != 2*4*hotPerG {
			t.Errorf("%d events, %d dropped; want %d", events, st.Dropped, 2*4*hotPerG)
		}
		return loopNs(t, out)
	})
	calls := float64(4 * hotPerG)
	per := func(d, base time.Duration) float64 { return float64(d-base) / calls / 1000 }
	t.Logf("hotloop, %d calls of main.hot on 4 goroutines, best of %d; wall is the loop's time, cpu all threads':", 4*hotPerG, reps)
	t.Logf("  untraced        wall %-12v cpu %v", untraced, untracedCPU)
	if bare > 0 {
		t.Logf("  bpftrace count  wall %-12v cpu %-12v (+%.2f µs wall, +%.2f µs cpu per call)", bare, bareCPU, per(bare, untraced), per(bareCPU, untracedCPU))
	}
	t.Logf("  tinydbg ebpf    wall %-12v cpu %-12v (+%.2f µs wall, +%.2f µs cpu per call; %d events, drain after exit %v)",
		ours, oursCPU, per(ours, untraced), per(oursCPU, untracedCPU), events, drain)
	if bare > 0 {
		t.Logf("  ratio to bpftrace: %.2f× wall, %.2f× cpu", per(ours, untraced)/per(bare, untraced), per(oursCPU, untracedCPU)/per(bareCPU, untracedCPU))
	}
}

// childCPU is the user and system time of a waited-for command, including
// its own waited-for children.
func childCPU(cmd *exec.Cmd) time.Duration {
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfCPU is this process's user and system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
