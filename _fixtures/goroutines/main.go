package main

import (
	"fmt"
	"sync"
)

func work(id int) int {
	x := id * 10
	x += 1
	x += 2
	return x
}

func main() {
	var wg sync.WaitGroup
	results := make([]int, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				results[i] += work(i)
			}
		}(i)
	}
	wg.Wait()
	fmt.Println(results)
}
