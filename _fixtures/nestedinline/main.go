// Command nestedinline has a call inlined into an inlined call, as go/printer's
// expr1 → setPos → token.Pos.IsValid: in optimized builds valid and setPos
// are both inlined into expr1.
package main

import "fmt"

type pos int

func (p pos) valid() bool {
	return p != 0
}

type printer struct {
	last pos
	n    int
}

func (p *printer) setPos(x pos) {
	if x.valid() {
		p.last = x
	}
}

//go:noinline
func (p *printer) expr1(x pos) {
	p.setPos(x)
	switch {
	case x > 10:
		p.n += 2
	default:
		p.n++
	}
}

func main() {
	p := &printer{}
	p.expr1(0)
	p.expr1(5)
	fmt.Println(p.n, p.last)
}
