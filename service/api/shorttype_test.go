package api

import (
	"reflect"
	"testing"
)

// TestShortTypeName checks the shortening of types that Delve's DAP
// server applies, on the shapes the Go toolchain produces.
func TestShortTypeName(t *testing.T) {
	for in, want := range map[string]string{
		"main.Point":        "main.Point",
		"*github.com/a/b.T": "*b.T",
		"example.com/pkg.T": "example.com/pkg.T", // one slash: kept
		"[]map[github.com/a/b.K]*github.com/c/d.V":    "[]map[b.K]*d.V",
		"github.com/a/b.Pair[github.com/c/d.K,int]":   "b.Pair[d.K, int]",
		"struct { X int }":                            "struct { X int }",
		"func(github.com/a/b.T) error":                "func(github.com/a/b.T) error",
		"interface {}":                                "interface {}",
		"[4]github.com/a/b.T":                         "[4]b.T",
		"map[string]github.com/a/b.Pair[string, int]": "map[string]b.Pair[string, int]",
	} {
		if got := ShortTypeName(in); got != want {
			t.Errorf("ShortTypeName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestShortTypesInValues checks that the short form reaches every type a
// one-line value shows: composites, pointers, interfaces and their data.
func TestShortTypesInValues(t *testing.T) {
	inner := Variable{Name: "N", Type: "github.com/a/b.Node", Kind: reflect.Struct, Len: 1, Addr: 0x3000,
		Children: []Variable{intVar("X", "3")}}
	ptr := Variable{Type: "*github.com/a/b.Node", Kind: reflect.Ptr, Addr: 0x6000, Children: []Variable{inner}}
	iface := Variable{Type: "github.com/a/b.Shape", Kind: reflect.Interface, Addr: 0x7000, Children: []Variable{ptr}}
	unloaded := Variable{Type: "*github.com/a/b.Node", Kind: reflect.Ptr, Addr: 0x8000,
		Children: []Variable{{Type: "github.com/a/b.Node", Kind: reflect.Struct, Addr: 0x9000, OnlyAddr: true}}}
	cases := []struct {
		v           Variable
		short, long string
	}{
		{ptr, "*b.Node {X: 3}", "*github.com/a/b.Node {X: 3}"},
		{iface, "b.Shape(*b.Node) *{X: 3}", "github.com/a/b.Shape(*github.com/a/b.Node) *{X: 3}"},
		{unloaded, "(*b.Node)(0x9000)", `("*github.com/a/b.Node")(0x9000)`},
	}
	for _, c := range cases {
		if got := c.v.SinglelineStringWithShortTypes(); got != c.short {
			t.Errorf("short: %q, want %q", got, c.short)
		}
		if got := c.v.SinglelineString(); got != c.long {
			t.Errorf("long: %q, want %q", got, c.long)
		}
	}
}
