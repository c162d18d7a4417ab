package trace

import (
	"context"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// BenchmarkUserSpace traces hotloop's main.hot (an int) and main.big (a
// string and a *struct) to io.Discard as text and JSON, for profiling what
// tinydbg itself spends per event (-cpuprofile): decoding, pairing,
// rendering and encoding. It reports tinydbg's CPU per event, from its own
// rusage, which excludes the traced program, and its allocations per
// event (start-up included in both).
func BenchmarkUserSpace(b *testing.B) {
	requireBPF(b)
	path := fixture.Build(b, "hotloop", fixture.Flavour{Optimized: true})
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	// "fresh" loads every value: an observer turns text reuse off, as
	// for arguments that differ at every call.
	for _, fn := range []string{"hot", "big", "big-fresh"} {
		for _, format := range []string{"text", "json"} {
			fn, fresh := strings.CutSuffix(fn, "-fresh")
			name := fn + "/" + format
			if fresh {
				name = fn + "-fresh/" + format
			}
			b.Run(name, func(b *testing.B) {
				b.Setenv("HOTLOOP_N", "100000")
				b.Setenv("HOTLOOP_FN", fn)
				for i := 0; i < b.N; i++ {
					sink := Sink(NewTextWriter(io.Discard))
					if format == "json" {
						sink = NewJSONWriter(io.Discard)
					}
					var m0, m1 runtime.MemStats
					runtime.ReadMemStats(&m0)
					before, sys0 := selfCPU(), selfSys()
					opts := Options{Regexp: `^main\.` + fn + `$`, Exec: path, Depth: 1, EBPF: true, Stdout: devnull}
					if fresh {
						opts.observe = func(*Event) {}
					}
					sum, err := Run(context.Background(), opts, sink)
					if err != nil || sum.Events != 800000 {
						b.Fatalf("%+v %v", sum, err)
					}
					b.ReportMetric(float64(selfCPU()-before)/float64(sum.Events), "cpu-ns/event")
					b.ReportMetric(float64(selfSys()-sys0)/float64(sum.Events), "sys-ns/event")
					runtime.ReadMemStats(&m1)
					b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(sum.Events), "allocs/event")
					b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(sum.Events), "B/event")
				}
			})
		}
	}
}

// selfCPU is this process's user and system time in nanoseconds, its
// children's excluded.
func selfCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// selfSys is the system part of selfCPU: the kernel's work for tinydbg
// (reading the ring buffer, waking goroutines), which its code does not
// show in a CPU profile.
func selfSys() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Stime.Nano()
}
