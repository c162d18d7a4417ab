// Command truth holds the shapes where a debugger's values went wrong on
// real programs: captured variables at a closure's entry, a method value's
// receiver, constants of a type declared in another package, and named
// integers listed by vars.
package main

import (
	"fmt"
	"os"
	"strings"

	"fixtures/truth/flags"
)

// ReadWrite is a constant of flags.Perm that only main declares: a value
// equal to it must print as it, not as Read|Write.
const ReadWrite flags.Perm = flags.Read | flags.Write

type Level int

const (
	Low Level = iota
	Mid
	High
)

var (
	gPerm  = ReadWrite
	gBits  = flags.Read | flags.Exec
	gLevel = High
	gMode  = os.ModeDir | 0o755
)

type counter struct{ n int }

//go:noinline
func (c *counter) Add(d int) int {
	c.n += d
	return c.n
}

//go:noinline
func call(f func(int) int, v int) int { return f(v) }

//go:noinline
func capture(n, m int) int {
	f := func(d int) int {
		m += d
		return n*100 + m
	}
	return call(f, 1)
}

// greet's closure calls a function, so it has a frame and a stack check:
// its breakpoint is at prologue_end, before the captured values are loaded.
//
//go:noinline
func greet(name string, times int) func() string {
	return func() string {
		return strings.Repeat(name, times)
	}
}

func main() {
	fmt.Println(greet("ab", 2)())
	c := &counter{n: 40}
	fmt.Println(capture(5, 7), call(c.Add, 2), gPerm, gBits, gLevel, gMode, gPerm.Has(flags.Read))
}
