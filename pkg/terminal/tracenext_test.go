package terminal_test

import (
	"strings"
	"testing"
)

// TestNextOntoTracepoint: next from basic's line 33 onto line 34, which
// holds a tracepoint, ends there and shows the tracepoint's line once;
// the continue from there runs to the end without showing it again.
func TestNextOntoTracepoint(t *testing.T) {
	out, errOut := runREPL(t, "basic", "break main.go:33\ntrace main.go:34\ncontinue\nnext\ncontinue\nexit\n")
	for _, c := range []struct {
		text string
		n    int
	}{
		{"> [Breakpoint 1] main.main() ./main.go:33 ", 1},
		{"> goroutine(1): main.main()\n", 1},
		{"=>  34:\t\tmsg := describe(p)\n", 1},
		{"=>  ", 2},
	} {
		if n := strings.Count(out, c.text); n != c.n {
			t.Errorf("%q shown %d times, want %d; output:\n%s", c.text, n, c.n, out)
		}
	}
	if !strings.HasPrefix(errOut, "Process ") || !strings.HasSuffix(errOut, " has exited with status 0\n") {
		t.Errorf("stderr %q", errOut)
	}
}
