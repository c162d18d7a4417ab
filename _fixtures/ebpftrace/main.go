// Command ebpftrace is the target of the eBPF tracing backend tests. It waits
// for a line on stdin so the tracer can attach before any traced call runs,
// then interleaves goroutines on a single thread inside traced functions.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"sync"
)

type point struct {
	X, Y int
}

var names = []string{"alpha", "beta", "gamma", "delta"}

//go:noinline
func work(id int, name string, vals []int) int {
	runtime.Gosched()
	s := id
	for _, v := range vals {
		s += v
	}
	return s + len(name)
}

//go:noinline
func classify(n int) string {
	if n < 0 {
		return "negative"
	}
	if n == 0 {
		return "zero"
	}
	return "positive"
}

//go:noinline
func norm(p *point) int {
	return p.X*p.X + p.Y*p.Y
}

//go:noinline
func grow(n int) int {
	var pad [512]byte
	pad[n%512] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return grow(n-1) + 1
}

// many has more integer arguments than the ABI has registers: j and k are
// passed on the stack.
//
//go:noinline
func many(a, b, c, d, e, f, g, h, i, j, k int) int {
	return a + b + c + d + e + f + g + h + i + j*100 + k*1000
}

//go:noinline
func scale(x float64, n int) float64 {
	return x * float64(n)
}

func main() {
	runtime.GOMAXPROCS(1)
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Println("stdin:", err)
		return
	}
	var wg sync.WaitGroup
	total := 0
	var mu sync.Mutex
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := work(i, names[i], []int{i, 10 * i, 100})
			mu.Lock()
			total += r
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	fmt.Println(classify(-3), classify(0), classify(total))
	fmt.Println(norm(&point{X: 3, Y: 4}))
	fmt.Println(many(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), scale(1.5, 4))
	done := make(chan int)
	go func() { done <- grow(40) }()
	fmt.Println(<-done)
}
