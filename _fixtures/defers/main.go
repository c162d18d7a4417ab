package main

import "fmt"

var order []string

func cleanup(name string) {
	order = append(order, name)
}

func run() int {
	defer cleanup("first")
	defer cleanup("second")
	x := 40
	x += 2
	return x
}

func main() {
	v := run()
	fmt.Println(v, order)
}
