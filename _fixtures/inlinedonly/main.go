package main

import (
	"fmt"
	"os"
)

func add(a, b int) int {
	sum := a + b
	return sum * 2
}

func twice(x int) int {
	y := add(x, x)
	return y + 1
}

func main() {
	n := len(os.Args)
	a := add(n, 10)
	b := twice(n)
	fmt.Println(a, b)
	os.Exit(a + b - 20)
}
