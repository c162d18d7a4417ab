package trace

import (
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// BenchmarkJSONEventBig is what writing a call of hotloop's main.big as
// JSON costs, in thread CPU time (the machine may be shared).
func BenchmarkJSONEventBig(b *testing.B) {
	ev := &Event{Kind: Call, Goroutine: 21, Thread: 4242, Function: "main.big", Time: 1234567 * time.Nanosecond,
		Values: []Value{{Name: "s", Type: "string", Value: `"0123456789012345678901234567890123456789"`},
			{Name: "it", Type: "*main.Item",
				Value: `*main.Item {Weight: 3, Tag: "tag", Next: *main.Item {Weight: 8, Tag: "next", Next: *main.Item nil}}`}}}
	jw := NewJSONWriter(io.Discard)
	jw.holdFlushes()
	b.ReportAllocs()
	runtime.LockOSThread() // for the thread's CPU time
	defer runtime.UnlockOSThread()
	before := threadCPU()
	for i := 0; i < b.N; i++ {
		if err := jw.Event(ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(threadCPU()-before)/float64(b.N), "cpu-ns/op")
}

// threadCPU is the calling thread's user and system time in nanoseconds.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
