package trace

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// benchCalls is how many calls of the hot function one run makes: enough
// for each tracer's fixed start-up cost to fade, few for Delve, which
// takes about 3 ms per call.
var benchCalls = map[string]int{"ptrace": 20000, "ebpf": 200000, "dlv": 1000}

// BenchmarkHotCall measures the per-call cost of tracing a hot function
// (one call and one return event per call) with each backend, and with
// `dlv trace` when a dlv binary is on PATH or in ~/go/bin, net of the
// untraced run time.
func BenchmarkHotCall(b *testing.B) {
	testenv.RequirePtrace(b)
	path := fixture.Build(b, "traceprog", fixture.Flavour{Optimized: true})
	for _, backend := range []string{"ptrace", "ebpf", "dlv"} {
		b.Run(backend, func(b *testing.B) {
			calls := benchCalls[backend]
			args := []string{"hot", strconv.Itoa(calls)}
			start := time.Now()
			if err := exec.Command(path, args...).Run(); err != nil {
				b.Fatal(err)
			}
			base := time.Since(start)
			if backend == "ebpf" {
				if _, err := os.Stat("/sys/bus/event_source/devices/uprobe/type"); err != nil {
					b.Skip("no uprobes")
				}
			}
			if backend == "dlv" {
				benchDelve(b, path, args, calls, base)
				return
			}
			for i := 0; i < b.N; i++ {
				start := time.Now()
				sum, err := Run(context.Background(), Options{Regexp: `^main\.hot$`, Exec: path, Args: args,
					Depth: 1, EBPF: backend == "ebpf"}, NewTextWriter(io.Discard))
				if err != nil || sum.Events != uint64(2*calls) {
					b.Fatalf("%+v %v", sum, err)
				}
				b.ReportMetric(float64((time.Since(start)-base).Nanoseconds())/float64(calls), "ns/tracedcall")
			}
		})
	}
}

// benchDelve runs `dlv trace --exec path main.hot -- args` b.N times.
func benchDelve(b *testing.B, path string, args []string, calls int, base time.Duration) {
	dlv, err := exec.LookPath("dlv")
	if err != nil {
		home, _ := os.UserHomeDir()
		dlv = filepath.Join(home, "go", "bin", "dlv")
		if _, err := os.Stat(dlv); err != nil {
			b.Skip("no dlv binary (go install github.com/go-delve/delve/cmd/dlv@v1.27.2)")
		}
	}
	for i := 0; i < b.N; i++ {
		start := time.Now()
		cmd := exec.Command(dlv, append([]string{"trace", "--exec", path, `^main\.hot$`, "--"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("dlv trace: %v\n%s", err, out)
		}
		if n := strings.Count(string(out), "main.hot"); n != 2*calls {
			b.Fatalf("dlv trace printed %d events, want %d", n, 2*calls)
		}
		b.ReportMetric(float64((time.Since(start)-base).Nanoseconds())/float64(calls), "ns/tracedcall")
	}
}

// BenchmarkHotloopEBPF measures what one traced call of main.hot costs the
// hotloop fixture under `trace --ebpf --exec`, from the program's own
// timing of its loop (start-up and shut-down excluded), net of an untraced
// run. Four goroutines call main.hot, so the Go scheduler's preemption
// signals run while probes fire.
func BenchmarkHotloopEBPF(b *testing.B) {
	requireBPF(b)
	path := fixture.Build(b, "hotloop", fixture.Flavour{Optimized: true})
	out := filepath.Join(b.TempDir(), "hotloop.out")
	b.Setenv("HOTLOOP_OUT", out)
	b.Setenv("HOTLOOP_N", "100000")
	loop := func() (calls int, ns int64) {
		data, err := os.ReadFile(out)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fmt.Sscanf(string(data), "calls=%d loop_ns=%d", &calls, &ns); err != nil {
			b.Fatalf("%q: %v", data, err)
		}
		return calls, ns
	}
	if err := exec.Command(path).Run(); err != nil {
		b.Fatal(err)
	}
	_, base := loop()
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	for i := 0; i < b.N; i++ {
		sum, err := Run(context.Background(), Options{Regexp: `^main\.hot$`, Exec: path, Depth: 1, EBPF: true,
			Stdout: devnull}, NewTextWriter(io.Discard))
		calls, ns := loop()
		if err != nil || sum.Events+sum.Dropped != uint64(2*calls) {
			b.Fatalf("%+v %v", sum, err)
		}
		b.ReportMetric(float64(ns-base)/float64(calls), "ns/tracedcall")
	}
}
