// Package lib has a method that its own package never inlines (so its
// out-of-line copy has no abstract origin) but that package main inlines,
// as go/parser inlines go/ast.(*SwitchStmt).Pos.
package lib

// Node is what Walk takes, so the method also needs an out-of-line copy.
type Node interface{ Pos() int }

type Box struct{ P int }

func (b *Box) Pos() int { return b.P + 1 }

//go:noinline
func Walk(n Node) int { return n.Pos() * 2 }
