// Command hotkinds calls one traced function N times, for measuring what a
// probe costs per call with small and with big arguments:
//
//	hotkinds int N     hot(i int)
//	hotkinds big N     big(s string, it *Item), a 40-byte string and a *struct
//
// It starts calling once a line arrives on stdin, so probes can be attached
// first.
package main

import (
	"bufio"
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
	sum := 0
	for i := 0; i < n; i++ {
		if os.Args[1] == "big" {
			sum += big(s, it)
		} else {
			sum += hot(i)
		}
	}
	fmt.Println(sum)
}
