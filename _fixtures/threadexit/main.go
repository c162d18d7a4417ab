package main

import (
	"fmt"
	"runtime"
	"sync"
)

//go:noinline
func hit(i int) int { return i * 2 }

func main() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := 0; i < 20; i++ {
		wg.Add(2)
		// A goroutine that ends while locked to its thread takes the
		// thread with it: the runtime exits that OS thread.
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
		}()
		go func(i int) {
			defer wg.Done()
			v := hit(i)
			mu.Lock()
			total += v
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	fmt.Println(total)
}
