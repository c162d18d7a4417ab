// Command stepping has the shapes where next, step and stepout leave a
// function in unusual ways: a return after the stack was copied, an init
// function, promoted-method wrappers, deferred calls and main's end.
package main

import (
	"fmt"
	"strings"
)

var initCount int

func init() {
	initCount++
	initCount *= 3
}

type Node struct {
	Name  string
	Depth int
}

// deep recurses with a large frame, so that the goroutine's stack is
// copied to a bigger one while its caller waits.
//
//go:noinline
func deep(n int) int {
	var pad [512]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return deep(n-1) + int(pad[n%len(pad)])&1
}

//go:noinline
func build(name string) (*Node, string) {
	d := deep(1000)
	return &Node{Name: name, Depth: d}, strings.ToUpper(name)
}

type Base struct{ n int }

func (b *Base) Get() int {
	v := b.n * 2
	return v
}

type Getter interface{ Get() int }

// Outer's method set gets (*Base).Get through a compiler-made wrapper.
type Outer struct {
	Base
	label string
}

//go:noinline
func use(g Getter) int {
	x := g.Get()
	return x + 1
}

var trail []string

func note(s string) {
	trail = append(trail, s)
}

//go:noinline
func deferring() int {
	defer note("done")
	y := len(trail) + 5
	return y
}

func main() {
	n, s := build("leaf")
	o := &Outer{Base: Base{n: 21}, label: "o"}
	r := use(o)
	k := deferring()
	fmt.Println(n.Name, n.Depth, s, r, k, initCount, trail)
}
