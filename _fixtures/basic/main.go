package main

import (
	"fmt"
	"os"
)

type Point struct {
	X, Y int
	Name string
}

func add(a, b int) int {
	sum := a + b
	return sum
}

func (p *Point) Scale(k int) {
	p.X *= k
	p.Y *= k
}

func describe(p Point) string {
	s := fmt.Sprintf("%s(%d,%d)", p.Name, p.X, p.Y)
	return s
}

var counter = 7

func main() {
	p := Point{X: 3, Y: 4, Name: "pt"}
	n := add(p.X, p.Y)
	p.Scale(2)
	msg := describe(p)
	counter += n
	fmt.Println(msg, n, counter)
	if len(os.Args) > 1 {
		fmt.Println("args:", os.Args[1:])
	}
}
