// fnpin is the target of call expressions whose inner calls return heap
// objects that only the debugger holds until the outer call takes them:
// each object counts its collection in a finalizer, and churn runs the
// collector, so a call of show tells whether they survived it.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

type thing struct {
	id   int
	name string
	tags []int
}

// made and freed count the objects newThing, newName and newTags
// returned, and the ones of them the collector found unreachable.
var made, freed int32

// released is what collect saw freed, read by the debugger at the end.
var released int32

func track(p any) {
	atomic.AddInt32(&made, 1)
	switch p := p.(type) {
	case *thing:
		runtime.SetFinalizer(p, func(*thing) { atomic.AddInt32(&freed, 1) })
	case *[16]byte:
		runtime.SetFinalizer(p, func(*[16]byte) { atomic.AddInt32(&freed, 1) })
	case *[3]int:
		runtime.SetFinalizer(p, func(*[3]int) { atomic.AddInt32(&freed, 1) })
	}
}

//go:noinline
func newThing(id int) *thing {
	t := &thing{id: id, name: fmt.Sprintf("thing-%d", id), tags: []int{id, 2 * id}}
	track(t)
	return t
}

// newName returns a string built at run time, its bytes an object of
// their own.
//
//go:noinline
func newName(id int) string {
	b := new([16]byte)
	n := copy(b[:], fmt.Sprintf("name-%d", id))
	track(b)
	return unsafe.String(&b[0], n)
}

//go:noinline
func newTags(id int) []int {
	a := &[3]int{id, 2 * id, 3 * id}
	track(a)
	return a[:]
}

// sink keeps churn's garbage from being optimized away.
var sink [][]byte

// churn collects garbage until every object made is freed, or long
// enough for the finalizers of unreachable ones to have run.
//
//go:noinline
func churn() int {
	rounds := 0
	for ; rounds < 20 && atomic.LoadInt32(&freed) < atomic.LoadInt32(&made); rounds++ {
		runtime.GC()
		for i := 0; i < 64; i++ {
			sink = append(sink, make([]byte, 1<<10))
		}
		sink = sink[:0]
		time.Sleep(5 * time.Millisecond)
	}
	return rounds
}

//go:noinline
func counts(t *thing, rounds int) string {
	return fmt.Sprintf("made=%d freed=%d", atomic.LoadInt32(&made), atomic.LoadInt32(&freed))
}

//go:noinline
func show(t *thing, name string, tags []int, rounds int) string {
	return fmt.Sprintf("%d %s %v %s %v made=%d freed=%d rounds=%d", t.id, t.name, t.tags, name, tags,
		atomic.LoadInt32(&made), atomic.LoadInt32(&freed), rounds)
}

//go:noinline
func stop() {
	fmt.Println("stop")
}

// collect runs the collector once the calls are over: objects still
// pinned are not freed.
func collect() {
	churn()
	atomic.StoreInt32(&released, atomic.LoadInt32(&freed))
}

//go:noinline
func done() {
	fmt.Println("done", released)
}

func main() {
	if len(os.Args) > 5 {
		fmt.Println(show(newThing(1), newName(2), newTags(3), churn()), counts(nil, 0))
	}
	stop()
	collect()
	done()
}
