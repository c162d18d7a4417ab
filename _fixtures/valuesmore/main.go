// Command valuesmore holds the values the loader pages, describes or
// formats specially: a 1,000-entry map, flag-style constants, channels,
// time.Time, a closure and an inlined call. It prints "ready" and blocks;
// the line marked "stop here" is where Delve comparisons break.
package main

import (
	"fmt"
	"os"
	"time"
)

// Perm is a flag set: every constant is a single bit.
type Perm uint8

const (
	PermRead Perm = 1 << iota
	PermWrite
	PermExec
)

// Mode mixes single-bit constants with a combined one.
type Mode int

const (
	ModeA   Mode = 1
	ModeB   Mode = 2
	ModeC   Mode = 4
	ModeAll Mode = 7
)

type item struct {
	ID   int
	Name string
}

var (
	pageMap  = map[int]int{}
	permRW   = PermRead | PermWrite
	permNone Perm
	permOdd  = Perm(8) | PermRead
	modeAB   = ModeA | ModeB
	modeAll  = ModeAll
	ch       = make(chan int, 3)
	chItems  = make(chan item, 2)
	chNil    chan int
	tUTC     = time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	tZone    = time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	dur      = 90 * time.Second
	fn       func() int
)

// scale is small enough to be inlined into its callers when optimized.
func scale(x, factor int) int {
	y := x * factor
	return y + 1
}

//go:noinline
func useScale(a int) int {
	return scale(a, 3) * 2
}

func main() {
	for i := 0; i < 1000; i++ {
		pageMap[i] = i * 2
	}
	ch <- 10
	ch <- 20
	chItems <- item{ID: 1, Name: "one"}
	n := 5
	s := "captured"
	fn = func() int { n++; return n + len(s) }
	fmt.Println("ready", useScale(len(os.Args))) // stop here
	if len(os.Args) > 5 {
		fmt.Println(permRW, permNone, permOdd, modeAB, modeAll, chNil, tUTC, tZone, dur, fn())
	}
	for {
		time.Sleep(time.Hour)
	}
}
