// Command retabi returns values of the kinds the Go register ABI places
// differently (integer and interface pairs, strings, a struct of three
// words, a float, an array it puts on the stack), for reading a function's
// results right after it returned.
package main

import (
	"errors"
	"fmt"
	"sync"
)

var (
	errBoom = errors.New("boom")
	mu      sync.Mutex
)

type three struct{ a, b, c int }

//go:noinline
func pair(n int) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	if n < 0 {
		return 0, nil
	}
	return n * 6, errBoom
}

//go:noinline
func strbool(s string) (string, bool) {
	return s + "!", len(s) > 2
}

//go:noinline
func tri(x int) three {
	return three{x, x + 1, x + 2}
}

//go:noinline
func half(f float64) float64 {
	return f / 2
}

//go:noinline
func arr(x int) ([3]int, int) {
	return [3]int{x, x * 2, x * 3}, x + 100
}

//go:noinline
func named(x int) (r int, err error) {
	defer func() {
		r *= 2
	}()
	return x + 1, nil
}

func main() {
	n, err := pair(7)
	s, ok := strbool("abc")
	t := tri(10)
	h := half(2.5)
	a, b := arr(5)
	r, err2 := named(20)
	fmt.Println(n, err, s, ok, t, h, a, b, r, err2)
}
