package trace

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// benchCalls is how many calls of the hot function one run makes: the
// eBPF backend needs many more for its fixed attach cost to vanish.
var benchCalls = map[string]int{"ptrace": 2000, "ebpf": 200000}

// BenchmarkHotCall measures the per-call cost of tracing a hot function
// (one call and one return event per call) with each backend, net of the
// untraced run time.
func BenchmarkHotCall(b *testing.B) {
	testenv.RequirePtrace(b)
	path := fixture.Build(b, "traceprog", fixture.Flavour{Optimized: true})
	for _, backend := range []string{"ptrace", "ebpf"} {
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
