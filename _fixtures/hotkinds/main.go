// Command hotkinds calls one traced function N times, for measuring what a
// probe costs per call with small and with big arguments:
//
//	hotkinds int N     hot(i int)
//	hotkinds big N     big(s string, it *Item), a 40-byte string and a *struct
//	hotkinds err N     fail(err error), an error wrapping another
//
// It starts calling once a line arrives on stdin, so probes can be attached
// first.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
)

type Item struct {
	Weight int
	Tag    string
	Next   *Item
}

//go:noinline
func hot(i int) int { return i*3 + 1 }

//go:noinline
func big(s string, it *Item) int { return len(s) + it.Weight }

//go:noinline
func fail(err error) bool { return err != nil }

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: hotkinds int|big N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintln(os.Stderr, "stdin:", err)
		os.Exit(2)
	}
	s := "0123456789012345678901234567890123456789"
	it := &Item{Weight: 7, Tag: "tag", Next: &Item{Weight: 8, Tag: "next"}}
	err = fmt.Errorf("wrapped: %w", errors.New("inner failure"))
	sum := 0
	for i := 0; i < n; i++ {
		switch os.Args[1] {
		case "big":
			sum += big(s, it)
		case "err":
			if fail(err) {
				sum++
			}
		default:
			sum += hot(i)
		}
	}
	fmt.Println(sum)
}
