// Command goprinter formats a small Go file with go/format, the code
// gofmt runs: go/printer inlines token.Pos.IsValid into (*printer).setPos
// and setPos into its callers, so that one address ends one inlined copy
// and begins two nested ones, a third role for a probe there. It prints
// the formatted source's length.
package main

import (
	"fmt"
	"go/format"
)

const src = `package p

import "fmt"

// T is a type.
type T struct{ A, B int }

func (t T) Sum() int { return t.A+t.B }

func main() {
	for i := 0; i < 3; i++ {
		fmt.Println(T{i, i*2}.Sum())
	}
}
`

func main() {
	out, err := format.Source([]byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(out))
}
