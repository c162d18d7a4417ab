// Command watch writes globals and locals, reads globals, and grows and
// shrinks goroutine stacks: the targets of the watchpoint tests.
package main

import (
	"fmt"
	"runtime"
	"sync"
)

var counter int
var small uint16
var readme = 7
var sink int
var late int32

func loop() {
	local := 0
	for i := 0; i < 3; i++ {
		local += 10
		counter++
		small += 2
	}
	sink = readme
	fmt.Println(local, counter, sink)
}

// grow recurses deep enough that the goroutine's stack is copied.
func grow(n int) int {
	var pad [128]byte
	pad[n%128] = byte(n)
	if n == 0 {
		return 0
	}
	return grow(n-1) + int(pad[n%128])
}

func mover(done chan int) {
	x := 1
	x = 2
	x += grow(200)
	x = 3
	done <- x
}

// onNewThreads writes late from a goroutine that starts after several
// others have each taken a thread for good, so that it runs on a thread
// created after the program stopped in it.
func onNewThreads() {
	block := make(chan int)
	ready := make(chan int)
	for i := 0; i < 6; i++ {
		go func() {
			runtime.LockOSThread()
			ready <- 1
			<-block
		}()
		<-ready
	}
	go func() {
		runtime.LockOSThread()
		late = 42
		ready <- 1
	}()
	<-ready
}

// shrinker grows its stack, then parks using little of it while main
// runs the collector, which shrinks the stack (copying it from another
// goroutine), then writes y.
func shrinker(parked, resume, done chan int) {
	y := 1
	y += grow(400)
	parked <- 1
	<-resume
	y = 5
	done <- y
}

// shrink runs shrinker and the collector while it is parked.
func shrink() {
	parked, resume, done := make(chan int), make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		shrinker(parked, resume, done)
		wg.Done() // after shrinker returned: its frame is gone
	}()
	<-parked
	runtime.GC()
	runtime.GC()
	resume <- 1
	fmt.Println(<-done)
	wg.Wait()
}

func main() {
	loop()
	done := make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		mover(done)
		wg.Done()
	}()
	fmt.Println(<-done)
	wg.Wait()
	onNewThreads()
	fmt.Println(late)
	shrink()
}
