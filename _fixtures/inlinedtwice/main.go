package main

import "fmt"

func half(x int) int {
	return x / 2
}

//go:noinline
func first(v int) int { return half(v) + 1 }

//go:noinline
func second(v int) int { return half(v) * 3 }

// sink keeps an out-of-line copy of half alive next to the inlined ones.
var sink = half

func main() {
	fmt.Println(first(10), second(20), sink(30))
}
