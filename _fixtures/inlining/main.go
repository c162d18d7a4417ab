package main

import "fmt"

func square(x int) int {
	return x * x
}

func sumSquares(n int) int {
	total := 0
	for i := 1; i <= n; i++ {
		total += square(i)
	}
	return total
}

func main() {
	fmt.Println(sumSquares(10))
}
