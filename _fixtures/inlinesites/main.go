// Program inlinesites calls add at nine call sites: five direct calls,
// which an optimized build inlines, and four through a function variable,
// which always call the out-of-line copy. A -N -l build inlines nothing.
package main

import (
	"fmt"
	"os"
)

var (
	base  = len(os.Args) + 2 // 3 with no arguments, unknown to the compiler
	addFn = add              // calls through a variable are never inlined
	total int
)

func add(a, b int) int {
	return a*10 + b
}

func main() {
	x, y := base, base*2
	// Each inlined call reads total, which the call before it changed, so
	// the compiler cannot hoist or merge them.
	total += add(x, y)         // inlined: add(3, 6)
	total += addFn(x, 1)       // add(3, 1)
	total += add(total, 4)     // inlined: add(67, 4)
	total += addFn(y, 2)       // add(6, 2)
	total += add(total%10, x)  // inlined: add(3, 3)
	total += addFn(7, x)       // add(7, 3)
	total += add(total%100, 5) // inlined: add(9, 5)
	total += addFn(x, y)       // add(3, 6)
	total += add(total/100, y) // inlined: add(10, 6)
	fmt.Println(total)
}
