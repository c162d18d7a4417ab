package dap

import "testing"

// TestShortNames checks the shortening of types and function names that
// Delve's DAP server applies, on the shapes the Go toolchain produces.
func TestShortNames(t *testing.T) {
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
		if got := shortType(in); got != want {
			t.Errorf("shortType(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"main.add":                         "main.add",
		"github.com/a/b.(*T).M":            "b.(*T).M",
		"main.F[go.shape.int]":             "main.F[go.shape.int]",
		"github.com/a/b.F[github.com/c.T]": "b.F[github.com/c.T]",
		"runtime.goexit":                   "runtime.goexit",
	} {
		if got := shortFuncName(in); got != want {
			t.Errorf("shortFuncName(%q) = %q, want %q", in, got, want)
		}
	}
}
