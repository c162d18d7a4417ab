// Command delvemsgs is shaped for the messages tinydbg must word as Delve
// does: a nil pointer field, an index and a divisor from variables, two
// functions named compute, a channel with goroutines blocked on it, and a
// second goroutine that hits a breakpoint while main is being stepped.
package main

import (
	"fmt"
	"time"
)

type Inner struct{ V int }

type C struct {
	NilPtr *Inner
	Xs     []int
}

type Calc struct{ n int }

func (c *Calc) compute(x int) int { return c.n * x }

func compute(x int) int { return x * 2 }

//go:noinline
func other(i int) int {
	return i + 1 // the breakpoint the other goroutine hits
}

func ticker(done chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		default:
		}
		other(i)
		time.Sleep(time.Millisecond)
	}
}

func main() {
	c := &C{Xs: []int{1, 2, 3}}
	idx, zero := -1, 0
	ch := make(chan int)
	for i := 0; i < 2; i++ {
		go func(v int) { ch <- v }(i)
	}
	time.Sleep(50 * time.Millisecond)
	calc := &Calc{n: 3}
	fmt.Println(compute(1), calc.compute(2), len(c.Xs), idx, zero) // stop here
	done := make(chan struct{})
	go ticker(done)
	time.Sleep(20 * time.Millisecond) // next from here
	time.Sleep(20 * time.Millisecond)
	close(done)
	fmt.Println(<-ch + <-ch)
}
