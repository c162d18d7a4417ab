// blocklatency measures its own calls for `trace --stats`: block sleeps, so
// its goroutine parks and usually resumes on another thread, and recurse
// nests calls of itself on one goroutine. Every call prints the latency it
// measured around its own body and, for block, the thread it started and
// ended on, so a test can check a tracer's histogram call by call.
package main

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// sleeps are spread over the buckets: the test needs calls in several.
var sleeps = []time.Duration{300 * time.Microsecond, 1 * time.Millisecond, 3 * time.Millisecond, 7 * time.Millisecond}

// block reports what it measured instead of printing it: the tracer times
// the call up to its RET, so nothing slow may follow the measurement.
//
//go:noinline
func block(d time.Duration) (took time.Duration, startTid, endTid int) {
	start := time.Now()
	tid := syscall.Gettid()
	time.Sleep(d)
	return time.Since(start), tid, syscall.Gettid()
}

// recurse appends each level's latency to out (preallocated, so the append
// after the measurement costs nanoseconds), innermost first.
//
//go:noinline
func recurse(n int, out *[]time.Duration) int {
	start := time.Now()
	r := 0
	if n > 0 {
		r = recurse(n-1, out) + 1
	} else {
		time.Sleep(2 * time.Millisecond)
	}
	*out = append(*out, time.Since(start))
	return r
}

func main() {
	var wg sync.WaitGroup
	lines := make([][]string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				took, t0, t1 := block(sleeps[(g+i)%len(sleeps)])
				lines[g] = append(lines[g], fmt.Sprintf("block %d %d %d", took.Nanoseconds(), t0, t1))
			}
		}(g)
	}
	wg.Wait()
	for _, l := range lines {
		for _, s := range l {
			fmt.Println(s)
		}
	}
	levels := make([]time.Duration, 0, 12)
	for i := 0; i < 3; i++ {
		recurse(3, &levels)
	}
	for _, d := range levels {
		fmt.Printf("recurse %d\n", d.Nanoseconds())
	}
	fmt.Fprintln(os.Stderr, "blocklatency done")
}
