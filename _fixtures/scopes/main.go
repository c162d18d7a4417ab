// Command scopes stops in functions whose variables exercise scoping rules:
// shadowing, lexical blocks, late declarations, closures, generics, return
// values, plus package variables of many types for expressions. Each stop is
// a runtime.Breakpoint call marked with a "// stop:" comment that the tests
// look up, so that line numbers are never hard-coded.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
)

type Point struct {
	X, Y int
}

type Named struct {
	Point
	Name string
	Loc  *Point
}

type Shape interface{ Area() int }

type Rect struct{ W, H int }

func (r Rect) Area() int { return r.W * r.H }

type List struct {
	V    int
	Next *List
}

var (
	counter  = 7
	greeting = "hello, world"
	ratio    = 1.5
	small    = int8(-3)
	big      = uint64(1) << 63
	flag     = true
	pt       = Point{X: 3, Y: 4}
	ppt      = &Point{X: 5, Y: 6}
	nilPtr   *Point
	named          = Named{Point: Point{X: 1, Y: 2}, Name: "n", Loc: &Point{X: 9, Y: 8}}
	shape    Shape = Rect{W: 2, H: 5}
	shapePtr Shape = &Rect{W: 3, H: 3}
	anyInt   any   = 42
	errVal         = errors.New("boom")
	nums           = []int{10, 20, 30, 40, 50}
	arr            = [3]string{"a", "b", "c"}
	raw            = []byte("bytes!")
	byName         = map[string]int{"one": 1, "two": 2, "three": 3}
	byPoint        = map[Point]string{{1, 2}: "p12", {3, 4}: "p34"}
	byInt          = map[int]string{1: "uno", 2: "dos"}
	byIface        = map[any]int{"s": 1, 2: 2}
	cyclic         = &List{V: 1}
	cplx           = complex(1.5, -2)
	nilSlice []int
	nilMap   map[string]int
	mutable  = 100
	mutFloat = 2.5
	mutBool  = false
	mutPtr   *Point
)

//go:noinline
func sink(v any) {
	if v == nil {
		fmt.Fprintln(os.Stderr, "nil")
	}
}

//go:noinline
func shadow(a int) int {
	x := a + 1
	{
		x := a * 10
		y := x + 1
		if y > 0 {
			x := "inner"
			runtime.Breakpoint() // stop:shadow-inner
			sink(x)
		}
		sink(y)
	}
	runtime.Breakpoint() // stop:shadow-outer
	late := x * 2
	sink(late)
	return x
}

//go:noinline
func makeAdder(base int) func(int) int {
	return func(d int) int {
		total := base + d
		runtime.Breakpoint() // stop:closure
		return total
	}
}

type number interface{ ~int | ~float64 }

//go:noinline
func sum[T number](xs []T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	runtime.Breakpoint() // stop:generic
	return s
}

//go:noinline
func divide(a, b int) (q int, err error) {
	if b == 0 {
		err = errors.New("division by zero")
		return
	}
	q = a / b
	return
}

//go:noinline
func parse(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	return n * 2, nil
}

//go:noinline
func regArgs(n int, s string, p Point, f float64) int {
	return n + len(s) + p.X + int(f)
}

//go:noinline
func useGlobals() {
	cyclic.Next = cyclic
	mutPtr = ppt
	// Referencing every variable keeps the linker from dropping it.
	sink([]any{counter, greeting, ratio, small, big, flag, pt, ppt, nilPtr, named, shape, shapePtr,
		anyInt, errVal, nums, arr, raw, byName, byPoint, byInt, byIface, cyclic, cplx, nilSlice, nilMap})
	runtime.Breakpoint() // stop:globals
	sink(mutable)
}

func main() {
	useGlobals()
	fmt.Println(shadow(4))
	add := makeAdder(10)
	fmt.Println(add(5))
	fmt.Println(sum([]int{1, 2, 3}), sum([]float64{0.5, 0.25}))
	fmt.Println(divide(7, 2))
	fmt.Println(divide(1, 0))
	fmt.Println(parse("21"))
	fmt.Println(regArgs(1, "four", Point{X: 2, Y: 3}, 2.5))
	fmt.Println(mutable, mutFloat, mutBool, mutPtr)
}
