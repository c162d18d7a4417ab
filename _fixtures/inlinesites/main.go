// Program inlinesites calls add at nine call sites: five direct calls,
// which an optimized build inlines, and four through a function variable,
// which always call the out-of-line copy. A -N -l build inlines nothing.
// edges then calls functions whose inlined copies are the hard cases of
// probing them: a join after the copy, a loop inside it, nested copies, a
// copy at the start of a frameless function, a copy whose frame moves.
package main

import (
	"fmt"
	"os"
)

var (
	base    = len(os.Args) + 2 // 3 with no arguments, unknown to the compiler
	addFn   = add              // calls through a variable are never inlined
	total   int
	clamped int
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
	edges()
	fmt.Println(total)
}

// clamp branches inside its copies, and edges skips one call of it: the
// code after the copy is then also reached from outside it.
func clamp(v, hi int) int {
	if v > hi {
		clamped++
		return hi
	}
	return v
}

// sumTo loops inside its body.
func sumTo(n int) int {
	s := 0
	for i := 1; i <= n; i++ {
		s += i * i
	}
	return s
}

// scale is inlined into twice, which is inlined into edges: nested copies,
// which may begin and end where their parent does.
func scale(v int) int { return v*v + 1 }

func twice(v int) int { return scale(scale(v)) }

// leaf is a frameless function whose body is mostly clamp's copy.
//
//go:noinline
func leaf(v int) int { return clamp(v, 10) }

//go:noinline
func edges() {
	for i := 0; i < 4; i++ { // one copy, three calls
		if i != 2 {
			total += clamp(total%7+i*8, 12)
		}
	}
	total += sumTo(base)
	total += twice(total % 5)
	total += leaf(base * 5)
	v := total
	if v > 1<<40 { // never: the code after this copy is reached only from outside it
		v = clamp(v, 1<<41)
	}
	total += v
	total += grow(base * 300)
}

// grow is inlined, and the call inside it grows the goroutine's stack,
// which moves the caller's frame between the copy's entry and its exit.
func grow(n int) int { return recurse(n) + n }

//go:noinline
func recurse(n int) int {
	var pad [256]byte
	if n == 0 {
		return int(pad[0])
	}
	pad[n%256] = byte(n)
	return recurse(n-1) + int(pad[n%256])
}
