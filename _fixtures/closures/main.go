package main

import "fmt"

func makeCounter(start int) func() int {
	n := start
	return func() int {
		n++
		return n
	}
}

func apply(f func(int) int, v int) int {
	return f(v)
}

func main() {
	c := makeCounter(10)
	c()
	v := c()
	double := func(x int) int { return x * 2 }
	fmt.Println(v, apply(double, v))
}
