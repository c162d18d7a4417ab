// Command hotargs calls main.hot from four goroutines, 50,000 times each by
// default, with an int, a 40-byte string and a *struct: the load on which
// an eBPF trace must lose nothing. hot returns 3*i+len(s)+it.ID, so a
// return can be checked against its own call.
//
// HOTARGS_N sets the calls per goroutine; 0 calls forever. With HOTARGS_WAIT
// set the program prints its pid and waits for a line on stdin before it
// starts, so a tracer can attach first. HOTARGS_OUT names a file that gets
// "calls=C loop_ns=T". The first argument, if any, is the exit status.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const goroutines = 4

type item struct {
	ID   int
	Name string
}

//go:noinline
func hot(i int, s string, it *item) int {
	return 3*i + len(s) + it.ID
}

func main() {
	perG := 50000
	if s := os.Getenv("HOTARGS_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "hotargs: bad HOTARGS_N %q\n", s)
			os.Exit(2)
		}
		perG = n
	}
	if os.Getenv("HOTARGS_WAIT") != "" {
		fmt.Println(os.Getpid())
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			fmt.Fprintln(os.Stderr, "hotargs: stdin:", err)
			os.Exit(2)
		}
	}
	name := strings.Repeat("x", 40)
	sums := make([]int, goroutines)
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			it := &item{ID: g, Name: "worker"}
			s := 0
			for i := 0; perG == 0 || i < perG; i++ {
				s += hot(i, name, it)
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
	if out := os.Getenv("HOTARGS_OUT"); out != "" {
		line := fmt.Sprintf("calls=%d loop_ns=%d\n", goroutines*perG, elapsed.Nanoseconds())
		if err := os.WriteFile(out, []byte(line), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "hotargs: %v\n", err)
			os.Exit(1)
		}
	}
	fmt.Println("sum", total)
	if len(os.Args) > 1 {
		code, _ := strconv.Atoi(os.Args[1])
		os.Exit(code)
	}
}
