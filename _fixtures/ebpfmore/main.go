// Command ebpfmore is the target of the probe and eBPF tests for the edge
// cases: an empty function (its first instruction is its RET), a promoted
// method wrapper that leaves by a tail JMP, interface results, and panics
// unwinding through traced functions. It waits for a line on stdin so the
// tracer can attach before any traced call runs.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
)

//go:noinline
func empty() {}

// Inner's method is promoted through Outer's embedded pointer; the
// compiler's (*Outer).Get wrapper loads o.Inner and tail-jumps to it.
type Inner struct{ n int }

//go:noinline
func (i *Inner) Get() int { return i.n * 2 }

// Outer embeds *Inner.
type Outer struct {
	pad int
	*Inner
}

type getter interface{ Get() int }

//go:noinline
func fail(n int) error {
	if n > 0 {
		return errors.New("boom")
	}
	return nil
}

//go:noinline
func blame(n int) (int, error) {
	if n > 1 {
		return n, &codeErr{code: n}
	}
	return n, nil
}

type codeErr struct{ code int }

func (e *codeErr) Error() string { return fmt.Sprint("code ", e.code) }

// leaf panics on 3; mid calls it; guard recovers. leaf and mid never
// return from the panicking call, so their returns are missing.
//
//go:noinline
func leaf(n int) int {
	if n == 3 {
		panic("three")
	}
	return n + 1
}

//go:noinline
func mid(n int) int {
	return leaf(n) * 10
}

//go:noinline
func guard(n int) (r int) {
	defer func() {
		if recover() != nil {
			r = -1
		}
	}()
	return mid(n)
}

//go:noinline
func mix(a int, f float64, s string) float64 {
	return float64(a) + f + float64(len(s))
}

var g getter = &Outer{Inner: &Inner{n: 21}}

func main() {
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Println("stdin:", err)
		return
	}
	empty()
	fmt.Println(g.Get())
	fmt.Println(fail(0), fail(1))
	_, e := blame(7)
	fmt.Println(e)
	for i := 2; i <= 4; i++ {
		fmt.Println(guard(i))
	}
	fmt.Println(mix(1, 2.5, "abc"))
}
