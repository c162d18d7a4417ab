// Program corecrash starts three goroutines that block, then panics three
// calls deep; under GOTRACEBACK=crash the kernel writes a core of it.
package main

import (
	"fmt"
	"os"
	"sync"
)

type point struct{ X, Y int }

var started int

func worker(id int, ready *sync.WaitGroup, block chan struct{}) {
	ready.Done()
	<-block
	fmt.Println("worker", id)
}

func explode(name string, p point, depth int) {
	items := []int{depth, p.X, p.Y}
	msg := fmt.Sprintf("%s:%d", name, depth)
	if depth == 0 {
		panic(msg + fmt.Sprint(len(items)))
	}
	explode(name, point{p.X + 1, p.Y * 2}, depth-1)
}

func main() {
	block := make(chan struct{})
	var ready sync.WaitGroup
	for i := 0; i < 3; i++ {
		ready.Add(1)
		go worker(i, &ready, block)
	}
	ready.Wait()
	started = 3
	if len(os.Args) > 1 && os.Args[1] == "stay" {
		<-block
	}
	explode("core", point{1, 2}, 2)
}
