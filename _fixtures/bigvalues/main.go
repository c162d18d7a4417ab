// Command bigvalues builds large values for loader benchmarks: a chain of
// 1,000 structs linked by pointers and a map of 100,000 entries. It stops
// with runtime.Breakpoint once they are built.
package main

import (
	"fmt"
	"runtime"
	"strconv"
)

type Nested struct {
	Depth int
	Label string
	Next  *Nested
}

var (
	chain  *Nested
	bigMap = map[int]string{}
)

func main() {
	for i := 1000; i > 0; i-- {
		chain = &Nested{Depth: i, Label: "node" + strconv.Itoa(i), Next: chain}
	}
	for i := 0; i < 100000; i++ {
		bigMap[i] = "v" + strconv.Itoa(i)
	}
	runtime.Breakpoint()
	fmt.Println(chain.Depth, len(bigMap))
}
