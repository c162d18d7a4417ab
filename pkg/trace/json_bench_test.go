package trace

import (
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/testenv"
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
	before := testenv.ThreadCPU()
	for i := 0; i < b.N; i++ {
		if err := jw.Event(ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(testenv.ThreadCPU()-before)/float64(b.N), "cpu-ns/op")
}
