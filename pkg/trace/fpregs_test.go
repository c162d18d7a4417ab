package trace

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestFloatArgsAndResults traces functions whose float64, float32 and
// complex128 arguments and results travel in X registers.
func TestFloatArgsAndResults(t *testing.T) {
	testenv.RequirePtrace(t)
	const want = `> goroutine(1): main.fpArgs(3.141592653589793, -2.5)
>> goroutine(1): main.fpArgs => (0.6415926535897931)
> goroutine(1): main.mixed(3, 1.5, (0.25 + -4i))
>> goroutine(1): main.mixed => (8.75)
`
	for _, fl := range []fixture.Flavour{{}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer devnull.Close()
			var buf bytes.Buffer
			opts := Options{Exec: fixture.Build(t, "fpregs", fl), Regexp: `^main\.(fpArgs|mixed)$`, Depth: 1, Stdout: devnull}
			if _, err := Run(context.Background(), opts, NewTextWriter(&buf)); err != nil {
				t.Fatalf("trace: %v", err)
			}
			if got := buf.String(); got != want {
				t.Fatalf("trace:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
