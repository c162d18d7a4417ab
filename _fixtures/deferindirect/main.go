// deferindirect defers calls the compiler cannot name at the defer: a
// func value, a method of a pointer (through a deferwrap closure), a func
// value with an argument and an interface method (both called by a
// deferwrap through a register), and a func value deferred in a loop
// (through runtime.deferproc).
package main

import "fmt"

type counter struct{ n int }

func (c *counter) bump() {
	c.n++
}

type bumper interface{ bump() }

var total int

func done() {
	total++
}

func add(n int) {
	total += n
}

func funcValue() int {
	f := done
	defer f()
	return total
}

func method() int {
	c := &counter{}
	defer c.bump()
	return c.n
}

func funcValueArg() int {
	g := add
	defer g(2)
	return total
}

func iface() int {
	var b bumper = &counter{}
	defer b.bump()
	return total
}

func inLoop() int {
	f := done
	for i := 0; i < 2; i++ {
		defer f()
	}
	return total
}

func main() {
	fmt.Println(funcValue(), method(), funcValueArg(), iface(), inLoop(), total)
}
