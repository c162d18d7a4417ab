// Command probeforms is the target of the ptrace tracer's probe tests.
//
//	probeforms forms N    calls forms N times; prints "forms: CHECKSUM"
//	probeforms hammer N   four goroutines, each locked to its own thread, call
//	                      hammered and hammeredLea N times; prints "hammer: SUM"
//
// forms (forms_amd64.s) executes one of each instruction form the tracer
// emulates in place of a probe's int3, so a wrong emulation changes the
// printed checksum.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
)

// table is read RIP-relative by forms.
var table = [4]uint64{0x1111, 0x2222, 0x3333, 0x4444}

// forms is implemented in assembly.
func forms(x uint64, p *[4]uint64) uint64

// leaf is a lone RET in assembly, called by forms.
func leaf()

// hammered starts with ADDQ, which the tracer cannot emulate (it sets
// flags): its entry probe takes the single-step fallback.
//
//go:noinline
func hammered(i int) int {
	return i + 7
}

// hammeredLea starts with LEAQ, which the tracer emulates.
//
//go:noinline
func hammeredLea(i int) int {
	return i*3 + 1
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: probeforms forms|hammer N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "forms":
		var sum uint64
		for i := 0; i < n; i++ {
			buf := [4]uint64{uint64(i), 0x10, 0x20, 0x30}
			sum += forms(uint64(i), &buf)
			sum += buf[0] ^ buf[3]<<1
		}
		fmt.Println("forms:", sum)
	case "hammer":
		runtime.GOMAXPROCS(4)
		sums := make([]int, 4)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				runtime.LockOSThread()
				for i := 0; i < n; i++ {
					sums[g] += hammered(i) + hammeredLea(i)
				}
			}(g)
		}
		wg.Wait()
		fmt.Println("hammer:", sums[0]+sums[1]+sums[2]+sums[3])
	}
}
