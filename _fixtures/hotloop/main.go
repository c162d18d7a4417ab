// Command hotloop calls one small function, main.hot, many times from four
// goroutines. The benchmarks put a breakpoint or a trace probe on main.hot and
// measure what each hit costs.
//
// HOTLOOP_N sets the calls per goroutine (default 100000). When HOTLOOP_OUT
// names a file, the program writes "calls=C loop_ns=T" there: the loop's own
// duration, which excludes the tracer's start-up and shut-down, so the cost per
// probe hit can be computed without them.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

const goroutines = 4

//go:noinline
func hot(i int) int {
	return i*3 + 1
}

func main() {
	perG := 100000
	if s := os.Getenv("HOTLOOP_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "hotloop: bad HOTLOOP_N %q\n", s)
			os.Exit(2)
		}
		perG = n
	}
	sums := make([]int, goroutines)
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s := 0
			for i := 0; i < perG; i++ {
				s += hot(i)
			}
			sums[g] = s
		}(g)
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := 0
	for _, s := range sums {
		total += s
	}
	if out := os.Getenv("HOTLOOP_OUT"); out != "" {
		line := fmt.Sprintf("calls=%d loop_ns=%d\n", goroutines*perG, elapsed.Nanoseconds())
		if err := os.WriteFile(out, []byte(line), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "hotloop: %v\n", err)
			os.Exit(1)
		}
	}
	fmt.Println("sum", total)
}
