// Command traceprog is the target of the trace command's tests. With no
// arguments it runs one call on the main goroutine, then two goroutines whose
// calls interleave on one thread in a fixed order: channels decide the order,
// so neither the scheduler nor preemption can change the trace.
//
//	traceprog            the interleaved scenario, exit status 0
//	traceprog exit N     the scenario, then exit status N
//	traceprog die        exits from inside a traced call (it never returns)
//	traceprog hot N      calls hot N times (overhead measurements)
//	traceprog loop       prints "ready", then calls work every 10ms forever
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Item is passed by pointer so traces show a followed pointer.
type Item struct {
	Weight int
	Tag    string
}

var (
	twoIn    = make(chan struct{}) // job 2 is inside work
	threeIn  = make(chan struct{}) // job 3 is inside work
	twoOut   = make(chan struct{}) // job 2 has left work
	failures = 0
)

//go:noinline
func work(n int, name string, it *Item) (int, error) {
	runtime.Gosched()
	handoff(n)
	if n == 5 {
		os.Exit(5)
	}
	w := weigh(it)
	if n == 2 {
		failures++
		return w, errors.New("job 2 failed")
	}
	return n*1000 + w, nil
}

//go:noinline
func weigh(it *Item) int {
	return it.Weight*2 + len(it.Tag)
}

// handoff makes job 2 and job 3 take turns inside work.
//
//go:noinline
func handoff(n int) {
	switch n {
	case 2:
		close(twoIn)
		<-threeIn
	case 3:
		close(threeIn)
		<-twoOut
	}
}

//go:noinline
func hot(i int) int {
	return i*2 + 1
}

func scenario() {
	r, err := work(1, "job-1", &Item{Weight: 1, Tag: "t1"})
	fmt.Println("job 1:", r, err)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		r, err := work(2, "job-2", &Item{Weight: 2, Tag: "t2"})
		close(twoOut)
		fmt.Println("job 2:", r, err)
	}()
	go func() {
		defer wg.Done()
		<-twoIn
		r, err := work(3, "job-3", &Item{Weight: 3, Tag: "t0"})
		fmt.Println("job 3:", r, err)
	}()
	wg.Wait()
}

func main() {
	runtime.GOMAXPROCS(1)
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	arg := 0
	if len(os.Args) > 2 {
		arg, _ = strconv.Atoi(os.Args[2])
	}
	switch mode {
	case "":
		scenario()
	case "exit":
		scenario()
		os.Exit(arg)
	case "die":
		work(5, "job-5", &Item{Weight: 5, Tag: "t5"})
	case "hot":
		sum := 0
		for i := 0; i < arg; i++ {
			sum += hot(i)
		}
		fmt.Println("sum:", sum)
	case "loop":
		fmt.Println("ready")
		for {
			work(4, "job-4", &Item{Weight: 4, Tag: "t4"})
			time.Sleep(10 * time.Millisecond)
		}
	}
}
