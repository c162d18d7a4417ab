package trace

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// traceInlined traces main.add in _fixtures/inlinesites and returns the
// text output.
func traceInlined(t *testing.T, fl fixture.Flavour, ebpf bool) (string, Summary) {
	t.Helper()
	return traceRe(t, fl, ebpf, `^main\.add$`)
}

func traceRe(t *testing.T, fl fixture.Flavour, ebpf bool, re string) (string, Summary) {
	t.Helper()
	testenv.RequirePtrace(t)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	var buf bytes.Buffer
	opts := Options{Exec: fixture.Build(t, "inlinesites", fl), Regexp: re, Depth: 1, Stdout: devnull, EBPF: ebpf}
	sum, err := Run(context.Background(), opts, NewTextWriter(&buf))
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	return buf.String(), sum
}

func TestInlinedDump(t *testing.T) {
	for _, e := range []bool{false, true} {
		for _, fl := range []fixture.Flavour{{}, {Optimized: true}} {
			out, sum := traceInlined(t, fl, e)
			t.Logf("%s:\n%s%v", fl.Name(), out, sum)
		}
	}
}

func TestInlinedEdgesDump(t *testing.T) {
	for _, e := range []bool{false, true} {
		for _, fl := range []fixture.Flavour{{}, {Optimized: true}} {
			out, sum := traceRe(t, fl, e, `^main\.(clamp|sumTo|scale|twice|leaf)$`)
			t.Logf("%s:\n%s%v", fl.Name(), out, sum)
		}
	}
}
