// Command hotloop calls one small function, main.hot, many times from four
// goroutines. The benchmarks put a breakpoint or a trace probe on main.hot and
// measure what each hit costs.
//
// HOTLOOP_N sets the calls per goroutine (default 100000). When HOTLOOP_OUT
// names a file, the program writes "calls=C loop_ns=T" there: the loop's own
// duration, which excludes the tracer's start-up and shut-down, so the cost per
// probe hit can be computed without them, and "cpu_ns=" its own CPU time
// (user and system), which a tracer's CPU is told apart from.
//
// HOTLOOP_FN=big calls main.big instead, with a 40-byte string and a
// *struct: the arguments a tracer must copy rather than read from registers.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const goroutines = 4

//go:noinline
func hot(i int) int {
	return i*3 + 1
}

// Item is big's pointer argument: a struct with a string and a pointer.
type Item struct {
	Weight int
	Tag    string
	Next   *Item
}

//go:noinline
func big(s string, it *Item) int { return len(s) + it.Weight }

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
	bigArgs := os.Getenv("HOTLOOP_FN") == "big"
	sums := make([]int, goroutines)
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s := 0
			if bigArgs {
				str := "0123456789012345678901234567890123456789"
				it := &Item{Weight: g, Tag: "tag", Next: &Item{Weight: 8, Tag: "next"}}
				for i := 0; i < perG; i++ {
					s += big(str, it)
				}
			} else {
				for i := 0; i < perG; i++ {
					s += hot(i)
				}
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
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		cpu := ru.Utime.Nano() + ru.Stime.Nano()
		line := fmt.Sprintf("calls=%d loop_ns=%d cpu_ns=%d\n", goroutines*perG, elapsed.Nanoseconds(), cpu)
		if err := os.WriteFile(out, []byte(line), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "hotloop: %v\n", err)
			os.Exit(1)
		}
	}
	fmt.Println("sum", total)
}
