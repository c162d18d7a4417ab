// manygoroutines parks N goroutines (os.Args[1], default 10000) on a
// channel, then stops in main.ready and loops so that a debugger can list
// them and step with all of them alive.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func park(ch chan struct{}, started *sync.WaitGroup) {
	started.Done()
	<-ch
}

//go:noinline
func ready(n int) int { return n }

//go:noinline
func step(i int) int { return i & 7 }

func main() {
	n := 10000
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			n = v
		}
	}
	ch := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	for i := 0; i < n; i++ {
		go park(ch, &started)
	}
	started.Wait()
	// Done comes just before the receive: give the last ones time to park.
	time.Sleep(50 * time.Millisecond)
	total := ready(n)
	for i := 0; i < 1<<30; i++ {
		total += step(i)
		total ^= i
	}
	close(ch)
	fmt.Println(total)
}
