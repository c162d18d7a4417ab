// Program optargs gives the location-list tests functions whose arguments
// live in registers under the register ABI, so that optimized builds emit
// location lists for them. Every function is noinline so it keeps its own
// DW_TAG_subprogram with formal parameters.
package main

import (
	"fmt"
	"os"
)

type pair struct {
	A, B int
}

var sink int

//go:noinline
func addInts(a, b int) int {
	s := a*3 + b
	sink += s
	return s - a
}

//go:noinline
func sumFloats(x, y float64) float64 {
	return x*2 + y
}

//go:noinline
func strLen(s string, extra int) int {
	n := len(s) + extra
	sink += n
	return n
}

//go:noinline
func swapPair(p pair) pair {
	return pair{A: p.B, B: p.A}
}

func main() {
	n := addInts(len(os.Args), 5)
	f := sumFloats(float64(n), 0.5)
	l := strLen("hello", n)
	p := swapPair(pair{A: n, B: l})
	fmt.Println(n, f, l, p, sink)
}
