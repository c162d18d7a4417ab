// Command watch writes a global and a stack variable in a loop, reads
// another global, and grows a goroutine's stack while one of its locals is
// watched: the targets of the watchpoint tests.
package main

import (
	"fmt"
	"runtime"
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

func main() {
	loop()
	done := make(chan int)
	go mover(done)
	fmt.Println(<-done)
	onNewThreads()
	fmt.Println(late)
}
