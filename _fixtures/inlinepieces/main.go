// Program inlinepieces walks a small tree by the segments of three paths.
// An optimized build inlines find, with a string argument, and describe,
// with a struct argument, into the recursive match. At find's entry DWARF
// gives its key as two pieces, the pointer in a stack slot of match's
// frame and the length in RBX (Go 1.26); describe's span is in the frame.
package main

import (
	"fmt"
	"strings"
)

type entry struct {
	key string
	n   *node
}

type node struct {
	name string
	list []entry
}

type span struct {
	Seg   string
	Depth int
	Rest  string
}

var seen int

func (n *node) find(k string) *node {
	for _, e := range n.list {
		if e.key == k {
			return e.n
		}
	}
	return nil
}

func describe(s span) int {
	seen += s.Depth
	return len(s.Seg)*100 + len(s.Rest)
}

func first(path string) (string, string) {
	i := strings.IndexByte(path, '/')
	if i < 0 {
		return path, ""
	}
	return path[:i], path[i+1:]
}

//go:noinline
func (n *node) match(path string, depth int, acc []string) (*node, []string) {
	if path == "" {
		return n, acc
	}
	seg, rest := first(path)
	sp := span{Seg: seg, Depth: depth, Rest: rest}
	if c := n.find(seg); c != nil {
		if r, m := c.match(rest, depth+1, append(acc, seg)); r != nil {
			// sp was spilled across the call.
			sp.Depth += len(m)
			seen += describe(sp)
			return r, m
		}
	}
	return nil, nil
}

func main() {
	leaf := &node{name: "leaf"}
	mid := &node{name: "mid", list: []entry{{"b", leaf}, {"c", leaf}}}
	root := &node{name: "root", list: []entry{{"a", mid}, {"x", leaf}}}
	for _, p := range []string{"a/b", "a/c", "x"} {
		n, segs := root.match(p, 0, nil)
		fmt.Println(n.name, segs)
	}
	fmt.Println(seen)
}
