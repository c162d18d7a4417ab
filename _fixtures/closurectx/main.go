// closurectx is shaped like gofumpt's format.File: a closure captures a
// pointer to a struct by value and another variable by reference, and is
// called by a walker whose previous call left other bytes where the
// closure's own copies of its captured variables go. At the closure's
// entry those stack slots are not written yet.
package main

import "fmt"

type fileSet struct {
	base  int
	files []string
}

type fumpter struct {
	name  string
	fset  *fileSet
	level int
}

// dirty fills the stack below its caller with a pattern, so that a frame
// made at the same depth next finds the pattern in its unwritten slots.
//
//go:noinline
func dirty() uint64 {
	var a [40]uint64
	for i := range a {
		a[i] = 0x7a7a7a7a7a7a7a00 + uint64(i)
	}
	var sum uint64
	for _, v := range a {
		sum += v
	}
	return sum
}

//go:noinline
func (f *fumpter) applyPost(n int) { f.level += n }

//go:noinline
func walk(visit func(int) bool) uint64 {
	sum := dirty()
	visit(3)
	return sum
}

func format(fset *fileSet) int {
	f := &fumpter{name: "top", fset: fset, level: 1}
	var last int
	post := func(n int) bool {
		f.applyPost(n)
		last = n
		return true
	}
	walk(post)
	return last + f.level
}

func main() {
	fs := &fileSet{base: 1634, files: []string{"messy.go"}}
	fmt.Println(format(fs))
}
