// fncall is the target of injected function calls: functions of every
// argument and result shape, methods with value and pointer receivers, one
// reached through an interface, a func value and a function that panics.
package main

import (
	"fmt"
	"os"
	"strings"
)

type Point struct {
	X, Y int
}

type Shape interface {
	Area() int
}

type Rect struct {
	W, H int
}

//go:noinline
func (r Rect) Area() int { return r.W * r.H }

// Counter is met by *Tally only: a pointer receiver behind an interface.
type Counter interface {
	Inc() int
}

type Tally struct{ n int }

//go:noinline
func (t *Tally) Inc() int { t.n++; return t.n }

var tally Counter = &Tally{n: 1}

//go:noinline
func (p Point) Sum() int { return p.X + p.Y }

//go:noinline
func (p *Point) Scale(k int) int {
	p.X *= k
	p.Y *= k
	return p.X + p.Y
}

//go:noinline
func add(a, b int) int { return a + b }

//go:noinline
func greet(name string, n int) string { return strings.Repeat(name, n) + "!" }

//go:noinline
func swap(p Point) (Point, bool) { return Point{p.Y, p.X}, p.X != p.Y }

//go:noinline
func newPoint(x, y int) *Point { return &Point{X: x, Y: y} }

//go:noinline
func half(f float64) float64 { return f / 2 }

//go:noinline
func boom(msg string) int { panic("boom: " + msg) }

//go:noinline
func nothing() {}

var counter = 10

// op is a func value; offset a closure over a local of main.
var (
	op     = add
	offset func(int) int
)

//go:noinline
func bump() int { counter++; return counter }

//go:noinline
func stop(p *Point, s Shape, name string, k int) {
	fmt.Println("stop", p.X, s.Area(), name, k)
	fmt.Println("after", p.X, counter)
}

func main() {
	go ticker()
	p := &Point{X: 3, Y: 4}
	var s Shape = Rect{W: 2, H: 5}
	twice := func(n int) int { return 2 * n }
	base := len(os.Args) + 99
	offset = func(n int) int { return n + base }
	fmt.Println(twice(1), add(1, 2), greet("a", 1), half(1), newPoint(0, 0).X, Point{}.Sum())
	nothing()
	_, _ = swap(*p)
	if len(os.Args) > 5 {
		boom("never")
		bump()
		p.Scale(2)
		op(1, 2)
		tally.Inc()
		triple([2]int{}, "")
		waitTick()
	}
	stop(p, s, "gopher", 7)
	fmt.Println("done", p.X, p.Y)
}

// triple takes an array and returns one: arrays of more than one element
// are never passed in registers, so both use the argument frame.
//
//go:noinline
func triple(a [2]int, s string) [3]int { return [3]int{a[0], a[1], len(s)} }

// start and ticked let a call block until another goroutine ran: the
// ticker only runs tick when waitTick, called by the debugger, asks.
var (
	start  = make(chan struct{})
	ticked = make(chan int)
)

//go:noinline
func tick(n int) int { return n + 1 }

func ticker() {
	n := 0
	for range start {
		n = tick(n)
		ticked <- n
	}
}

//go:noinline
func waitTick() int {
	start <- struct{}{}
	return <-ticked
}

// hold parks for good the goroutines spawn starts, so that a call of
// spawn leaves one more goroutine, in main.park, for the list to show.
var hold = make(chan int)

//go:noinline
func spawn() int {
	go park()
	return 1
}

func park() { <-hold }

// spinning keeps spin going until the debugger clears it: a call of spin
// ends only after a halt.
var spinning = true

//go:noinline
func spin() int {
	n := 0
	for spinning {
		n++
	}
	return 7
}

func init() {
	if len(os.Args) > 5 { // never: only the debugger calls them
		spawn()
		spin()
	}
}
