// Command condloop calls main.hot N times (first argument, default
// 1000000) in each of G goroutines (second argument, default 1), i
// counting from 0 in each: a breakpoint condition i == K holds once per
// goroutine. It prints the sum of the results, which a debugger must not
// change, and how long the loops took. With CONDLOOP_WAIT set it prints
// its pid and waits for a line on stdin before the loops, so that a
// debugger can attach first, and for another one after them, so that a
// test can look at its text after the debugger has left.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

var calls int // package variable for conditions on globals

//go:noinline
func hot(i int, p *int) int {
	x := i*3 + *p
	return x
}

func arg(n int, def int) int {
	if len(os.Args) <= n {
		return def
	}
	v, err := strconv.Atoi(os.Args[n])
	if err != nil || v < 0 {
		fmt.Fprintf(os.Stderr, "condloop: bad argument %q\n", os.Args[n])
		os.Exit(2)
	}
	return v
}

func main() {
	n, g := arg(1, 1000000), arg(2, 1)
	wait := func() {}
	if os.Getenv("CONDLOOP_WAIT") != "" {
		in := bufio.NewReader(os.Stdin)
		wait = func() {
			if _, err := in.ReadString('\n'); err != nil {
				fmt.Fprintln(os.Stderr, "condloop: stdin:", err)
				os.Exit(2)
			}
		}
		fmt.Println(os.Getpid())
		wait()
	}
	sums := make([]int, g)
	var wg sync.WaitGroup
	start := time.Now()
	for k := 0; k < g; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			one := 1
			s := 0
			for i := 0; i < n; i++ {
				s += hot(i, &one)
			}
			sums[k] = s
		}(k)
	}
	wg.Wait()
	elapsed := time.Since(start)
	wait()
	total := 0
	for _, s := range sums {
		total += s
	}
	calls = n * g
	fmt.Printf("sum %d\n", total)
	fmt.Fprintf(os.Stderr, "calls=%d loop_ns=%d\n", calls, elapsed.Nanoseconds())
}
