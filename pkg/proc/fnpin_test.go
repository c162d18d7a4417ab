package proc_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc"
)

// TestDebugPinnerByToolchain: runtime.debugPinnerV1 is there from Go 1.23
// on; with Go 1.22 NewPinner says it is not, before injecting anything.
func TestDebugPinnerByToolchain(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		fl := fixture.Flavour{Toolchain: tc}
		want := tc != "go1.22.12"
		t.Run(fl.Name(), func(t *testing.T) {
			tg := launch(t, "fnpin", fl)
			if got := tg.HasDebugPinner(); got != want {
				t.Fatalf("HasDebugPinner() = %v, want %v", got, want)
			}
			if !want {
				if _, err := tg.NewPinner(1, 1); err != proc.ErrNoDebugPinner {
					t.Fatalf("NewPinner: %v, want %v", err, proc.ErrNoDebugPinner)
				}
			}
		})
	}
}
