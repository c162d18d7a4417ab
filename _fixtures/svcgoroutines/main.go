package main

import (
	"context"
	"fmt"
	"runtime/pprof"
	"time"
)

//go:noinline
func receive(ch chan int) int {
	v := <-ch
	return v * 2
}

func worker(ch chan int, done chan int) {
	r := receive(ch)
	r++
	done <- r
}

//go:noinline
func ready() {}

func spin(stop chan bool, hits *int) {
	for {
		select {
		case <-stop:
			return
		default:
			*hits++
			tick(*hits)
		}
	}
}

//go:noinline
func tick(n int) int { return n + 1 }

func main() {
	ch := make(chan int)
	done := make(chan int)
	pprof.Do(context.Background(), pprof.Labels("role", "worker"), func(context.Context) {
		go worker(ch, done)
	})
	time.Sleep(50 * time.Millisecond)
	ready()
	ch <- 21
	fmt.Println(<-done)
	stop := make(chan bool)
	hits := 0
	count := 3
	verbose := false
	var last *int
	go spin(stop, &hits)
	time.Sleep(20 * time.Millisecond)
	ready()
	stop <- true
	fmt.Println("done", count, verbose, last == nil)
}
