package bininfo

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestUnwrap: parked's `go waiter(ch, done)` runs main.main.gowrap1, which
// calls main.waiter; the runtime's own wrappers call private runtime
// functions and goroutines' gowrap1 calls its closure through a register,
// so those stay as they are, as in Delve.
func TestUnwrap(t *testing.T) {
	cases := []struct{ fixture, fn, want string }{
		{"parked", "main.main.gowrap1", "main.waiter"},
		{"parked", "runtime.gcenable.gowrap1", "runtime.gcenable.gowrap1"},
		{"parked", "main.main", "main.main"},
		{"goroutines", "main.main.gowrap1", "main.main.gowrap1"},
	}
	for _, tc := range []string{"", "go1.22.12"} {
		for _, f := range []fixture.Flavour{{Toolchain: tc}, {Optimized: true, Toolchain: tc}, {Optimized: true, PIE: true, Toolchain: tc}} {
			t.Run(f.Name(), func(t *testing.T) {
				for _, c := range cases {
					bi := openFixture(t, c.fixture, f)
					if f.PIE {
						bi.SetLoadBias(0x555555554000)
					}
					fn, err := bi.LookupFunc(c.fn)
					if err != nil {
						t.Fatal(err)
					}
					if fn.Trampoline != (c.fn != "main.main") {
						t.Errorf("%s: trampoline %v", c.fn, fn.Trampoline)
					}
					if got := bi.Unwrap(fn); got == nil || got.Name != c.want {
						t.Errorf("%s %s: Unwrap = %v, want %s", c.fixture, c.fn, got, c.want)
					}
				}
			})
		}
	}
}
