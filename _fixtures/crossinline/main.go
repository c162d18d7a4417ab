// Program crossinline calls lib.(*Box).Pos directly, inlined when
// optimized, and through an interface, out of line.
package main

import (
	"fmt"
	"os"

	"crossinline/lib"
)

//go:noinline
func direct(b *lib.Box) int {
	return b.Pos() + len(os.Args)
}

func main() {
	b := &lib.Box{P: 4}
	d := direct(b)
	w := lib.Walk(b)
	fmt.Println(d, w)
}
