// Command condhot calls main.hot N times (CONDHOT_N, default 64) with
// arguments, locals and package variables of every kind the in-kernel
// condition compiler takes, each a fixed function of the call index i:
// pointers that are nil, valid or invalid, strings, slices, structs behind
// pointers, interfaces. The condition test evaluates conditions on the
// line marked "cond here" both in the kernel and by stopping, and requires
// the same verdict for every call. With CONDHOT_WAIT set the program
// prints its pid and waits for a line on stdin before the first call.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"unsafe"
)

type inner struct {
	V    int32
	Name string
	Next *inner
}

type rec struct {
	A   int64
	B   uint8
	C   int16
	D   uint32
	F   int8
	OK  bool
	In  inner
	P   *inner
	Arr [4]int16
	Sl  []int
	S   string
}

var (
	gCount int
	gName  string
	gPtr   *inner
	gArr   [3]uint16
	gU8    uint8
)

const Limit = 40

var strs = []string{"", "a", "abc", "hello world", "abcdefghijklmnopq", "xyz", "abd", "hello worle"}

// badAddr is an address nothing is mapped at: reading through it fails.
var badAddr uintptr = 64

// badPtr is badAddr as a pointer, made without a uintptr conversion that
// vet would flag.
var badPtr = *(*unsafe.Pointer)(unsafe.Pointer(&badAddr))

var sinkSum int

//go:noinline
func mark(i int) { sinkSum += i }

//go:noinline
func hot(i int, i8 int8, u16 uint16, i32 int32, u64 uint64, ok bool, s string, bs string, p *inner, r *rec, sl []int, err error) int {
	loc := i*7 - 20
	u := uint8(i * 37)
	name := strs[(i+3)%len(strs)]
	mark(i) // cond here
	n := loc + int(u) + len(name) + int(i8) + int(u16) + int(i32) + int(u64&7) + len(s) + len(bs) + len(sl)
	if ok {
		n++
	}
	if p != nil && unsafe.Pointer(p) != badPtr {
		n += int(p.V)
	}
	if r != nil {
		n += int(r.A)
	}
	if err != nil {
		n--
	}
	return n
}

func main() {
	calls := 64
	if v := os.Getenv("CONDHOT_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "condhot: bad CONDHOT_N %q\n", v)
			os.Exit(2)
		}
		calls = n
	}
	if os.Getenv("CONDHOT_WAIT") != "" {
		fmt.Println(os.Getpid())
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			fmt.Fprintln(os.Stderr, "condhot: stdin:", err)
			os.Exit(2)
		}
	}
	inners := make([]inner, 6)
	for k := range inners {
		inners[k] = inner{V: int32(k*11 - 20), Name: strs[k%len(strs)]}
		if k > 0 {
			inners[k].Next = &inners[k-1]
		}
	}
	inners[3].Next = (*inner)(badPtr)
	data := []int{5, -3, 8, 100, 0, 42, 7}
	recs := make([]rec, 8)
	for k := range recs {
		recs[k] = rec{A: int64(k*k) - 10, B: uint8(k * 50), C: int16(k*1000 - 3000), D: uint32(k) * 600000000,
			F: int8(k*40 - 128), OK: k%2 == 1, In: inners[k%len(inners)], Arr: [4]int16{int16(k), int16(-k), 7, int16(k * k)},
			Sl: data[:k%len(data)], S: strs[(k+1)%len(strs)]}
		switch k % 3 {
		case 0:
			recs[k].P = nil
		case 1:
			recs[k].P = (*inner)(badPtr)
		default:
			recs[k].P = &inners[(k+2)%len(inners)]
		}
	}
	someErr := errors.New("boom")
	badStr := unsafe.String((*byte)(badPtr), 3)
	total := 0
	for i := 0; i < calls; i++ {
		gCount = i * 2
		gName = strs[i%len(strs)]
		gU8 = uint8(i * 91)
		gArr = [3]uint16{uint16(i), uint16(i * 1000), 9}
		gPtr = nil
		if i%3 == 1 {
			gPtr = &inners[i%len(inners)]
		}
		var p *inner
		switch i % 4 {
		case 1:
			p = (*inner)(badPtr)
		case 2, 3:
			p = &inners[i%len(inners)]
		}
		var r *rec
		if i%5 != 0 {
			r = &recs[i%len(recs)]
		}
		var err error
		if i%2 == 1 {
			err = someErr
		}
		bs := strs[i%3]
		if i%7 == 6 {
			bs = badStr
		}
		total += hot(i, int8(i*9-100), uint16(i*2000), int32(i*i)-500, uint64(i)<<58|uint64(i), i%3 == 0,
			strs[i%len(strs)], bs, p, r, data[:i%len(data)], err)
	}
	fmt.Println("total", total)
}
