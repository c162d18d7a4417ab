package dap

import "testing"

// TestShortFuncName checks the shortening of function names that Delve's
// DAP server applies to frames, on the shapes the Go toolchain produces.
func TestShortFuncName(t *testing.T) {
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
