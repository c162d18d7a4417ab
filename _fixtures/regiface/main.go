// Program regiface passes interfaces in registers: in the optimized build
// f's arguments live only in RAX..RSI at its entry, so a debugger shows
// them from its overlay of register values, at Delve's fake addresses.
package main

import (
	"errors"
	"fmt"
	"os"
)

//go:noinline
func f(e error, i any, n error) int {
	if e == nil || n != nil {
		return 0
	}
	return len(e.Error()) + 1
}

func main() {
	fmt.Fprintln(os.Stderr, f(errors.New("boom"), 3, nil))
}
