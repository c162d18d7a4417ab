package main

import (
	"fmt"
	"time"
)

func waiter(ch chan int, done chan bool) {
	v := <-ch
	v *= 2
	fmt.Println("got", v)
	done <- true
}

//go:noinline
func ready() {}

func main() {
	ch := make(chan int)
	done := make(chan bool)
	go waiter(ch, done)
	time.Sleep(50 * time.Millisecond)
	ready()
	ch <- 21
	<-done
}
