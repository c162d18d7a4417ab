// Program generics calls shape-instantiated generic functions and methods,
// whose register ABI passes the dictionary first, ahead of the declared
// arguments, and a closure inside one, which captures the dictionary
// instead of taking it.
package main

import (
	"fmt"
	"os"
)

type number interface {
	~int | ~int64 | ~float64
}

//go:noinline
func Sum[T number](xs []T, scale T) T {
	var s T
	for _, x := range xs {
		s += x * scale
	}
	return s
}

//go:noinline
func Pair[K comparable, V any](k K, v V) string {
	return fmt.Sprint(k, "=", v)
}

//go:noinline
func Map[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

type Box[T any] struct {
	items []T
}

//go:noinline
func (b *Box[T]) Put(x T, n int) int {
	add := func(y T) int {
		b.items = append(b.items, y)
		return len(b.items)
	}
	for i := 0; i < n; i++ {
		add(x)
	}
	return len(b.items)
}

func main() {
	n := Sum([]int{1, 2, 3}, 2)
	f := Sum([]float64{0.5, 1.5}, 2)
	p := Pair("answer", 42)
	b := &Box[string]{}
	c := b.Put("hi", 2)
	m := Map([]int{1, 2}, func(i int) string { return fmt.Sprint(i * 3) })
	fmt.Println(n, f, p, c, m, len(os.Args))
}
