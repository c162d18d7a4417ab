// Command inlinedentry's main.main starts with a call the compiler inlines,
// like cmd/go's main.main starting with log.SetFlags(0): the first
// statement after the prologue belongs to the inlined body, in another file.
package main

import "fmt"

func main() {
	setMode(3)
	total := 0
	for i := 0; i < mode; i++ {
		total += i
	}
	fmt.Println("mode", mode, "total", total)
}
