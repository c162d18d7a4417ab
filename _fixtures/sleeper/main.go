package main

import (
	"fmt"
	"os"
	"time"
)

var ticks int

func tick(i int) int {
	ticks++
	return i + 1
}

// main runs until it has ticked 600 times (about a minute), printing its pid
// first so tests can attach to it.
func main() {
	fmt.Println(os.Getpid())
	for i := 0; i < 600; i = tick(i) {
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Println("done", ticks)
}
