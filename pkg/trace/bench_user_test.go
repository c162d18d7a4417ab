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
// string and a *struct), and jsonserve's (*ServeMux).ServeHTTP as it
// serves itself 20,000 requests ("serve": every field of *http.Request and
// the ResponseWriter's, about 4 KB of text a call), to io.Discard as text
// and JSON, for profiling what
// tinydbg itself spends per event (-cpuprofile): decoding, pairing,
// rendering and encoding. It reports tinydbg's CPU per event, from its own
// rusage, which excludes the traced program, and its allocations per
// event (start-up included in both).
func BenchmarkUserSpace(b *testing.B) {
	requireBPF(b)
	hotloop := fixture.Build(b, "hotloop", fixture.Flavour{Optimized: true})
	jsonserve := fixture.Build(b, "jsonserve", fixture.Flavour{Optimized: true})
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	type target struct {
		name, path, regexp string
		env                [][2]string
		events             uint64
	}
	// "fresh" loads every value: an observer turns text reuse off, as
	// for arguments that differ at every call.
	targets := []target{
		{"hot", hotloop, `^main\.hot$`, [][2]string{{"HOTLOOP_N", "100000"}, {"HOTLOOP_FN", "hot"}}, 800000},
		{"big", hotloop, `^main\.big$`, [][2]string{{"HOTLOOP_N", "100000"}, {"HOTLOOP_FN", "big"}}, 800000},
		{"big-fresh", hotloop, `^main\.big$`, [][2]string{{"HOTLOOP_N", "100000"}, {"HOTLOOP_FN", "big"}}, 800000},
		{"serve", jsonserve, `^net/http\.\(\*ServeMux\)\.ServeHTTP$`, [][2]string{{"JSONSERVE_SELF", "20000"}}, 40000},
	}
	for _, tg := range targets {
		for _, format := range []string{"text", "json"} {
			b.Run(tg.name+"/"+format, func(b *testing.B) {
				for _, kv := range tg.env {
					b.Setenv(kv[0], kv[1])
				}
				for i := 0; i < b.N; i++ {
					sink := Sink(NewTextWriter(io.Discard))
					if format == "json" {
						sink = NewJSONWriter(io.Discard)
					}
					var m0, m1 runtime.MemStats
					runtime.ReadMemStats(&m0)
					before, sys0 := selfCPU(), selfSys()
					opts := Options{Regexp: tg.regexp, Exec: tg.path, Depth: 1, EBPF: true, Stdout: devnull}
					if strings.HasSuffix(tg.name, "-fresh") {
						opts.observe = func(*Event) {}
					}
					sum, err := Run(context.Background(), opts, sink)
					if err != nil || sum.Events != tg.events {
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
