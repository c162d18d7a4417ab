// Command untouched passes a pointer into memory the program has not
// touched yet: a large allocation fresh from the kernel, whose pages are
// not in memory until first used. A uprobe cannot fault them in, ptrace
// can; the eBPF tracer must say it could not read them, never show them
// wrong. The second call is made after the program wrote to the block.
package main

import "fmt"

type block struct {
	A, B int64
	S    string
}

//go:noinline
func peek(b *block) int64 { return b.A + b.B }

func main() {
	blocks := make([]block, 1<<16) // 2 MB, zero pages the kernel maps on first use
	b := &blocks[len(blocks)-1]
	fmt.Println(peek(b))
	b.A, b.S = 7, "seen"
	fmt.Println(peek(b))
}
