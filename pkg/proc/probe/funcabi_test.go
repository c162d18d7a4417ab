package probe

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestFuncABI: Go functions follow ABIInternal; assembly with an ".abi0"
// ELF symbol (runtime.goexit, internal/bytealg.IndexByteString) does not,
// and a reader of results must not apply the register ABI to it.
func TestFuncABI(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		fl := fixture.Flavour{Optimized: true, Toolchain: tc}
		t.Run(fl.Name(), func(t *testing.T) {
			bi, _ := open(t, "retabi", fl)
			for name, want := range map[string]ABI{
				"main.pair":                        ABIInternal,
				"main.half":                        ABIInternal,
				"runtime.goexit":                   ABI0,
				"internal/bytealg.IndexByteString": ABI0,
			} {
				got, ok := FuncABI(bi, lookup(t, bi, name))
				if !ok || got != want {
					t.Errorf("FuncABI(%s) = %v, %v; want %v", name, got, ok, want)
				}
			}
		})
	}
}
