// deferstep is shaped like go/parser's parseStmt: a deferred call with an
// argument (which the compiler calls through a deferwrap closure) and a
// bare return, called in a loop by a list parser; direct defers a call
// without arguments, which runtime.deferreturn calls itself.
package main

import "fmt"

type parser struct{ nestLev int }

func incNestLev(p *parser) *parser {
	p.nestLev++
	return p
}

func decNestLev(p *parser) {
	p.nestLev--
}

var ticks int

func tick() {
	ticks++
}

func parseStmt(p *parser) (s string) {
	defer decNestLev(incNestLev(p))

	s = fmt.Sprint("stmt", p.nestLev)
	return
}

func direct() (s string) {
	defer tick()

	s = "direct"
	return
}

func parseStmtList(p *parser) (list []string) {
	for i := 0; i < 2; i++ {
		list = append(list, parseStmt(p))
	}
	list = append(list, direct())
	return
}

func main() {
	p := &parser{}
	fmt.Println(parseStmtList(p), p.nestLev, ticks)
}
