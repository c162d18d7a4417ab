// Command userloc parks goroutines where the choice of a goroutine's user
// frame matters: inside internal/poll (a read of an empty pipe), inside a
// runtime function linknamed into another package (time.Sleep, the
// WaitGroup's semaphore) and, from Go 1.23, inside an iter.Pull coroutine.
// main.ready is called once they are all parked.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

//go:noinline
func ready() {}

func reader(f *os.File) {
	var b [1]byte
	n, err := f.Read(b[:])
	fmt.Println("read", n, err)
}

func sleeper() {
	time.Sleep(time.Hour)
}

func waiter(wg *sync.WaitGroup) {
	wg.Wait()
	fmt.Println("waited")
}

// startPull is set by pull.go where the toolchain has package iter.
var startPull = func() func() { return func() {} }

func main() {
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go reader(r)
	go sleeper()
	go waiter(&wg)
	stop := startPull()
	time.Sleep(50 * time.Millisecond)
	ready()
	stop()
	wg.Done()
	w.Close()
	time.Sleep(10 * time.Millisecond)
}
