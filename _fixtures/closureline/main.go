// Program closureline has lines that hold a closure: the line creating
// double is also where double's own body starts, and the body of next is
// inlined twice into main when optimized.
package main

import (
	"fmt"
	"os"
)

func counter(start int) func() int {
	n := start
	return func() int {
		n++
		return n
	}
}

func apply(f func(int) int, v int) int {
	return f(v)
}

func main() {
	next := counter(10)
	next()
	v := next()
	double := func(x int) int { return x * 2 }
	fmt.Println(v, apply(double, v), len(os.Args))
}
