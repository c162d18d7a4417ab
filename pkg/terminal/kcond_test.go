package terminal_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/testenv"
)

var (
	hexAddr = regexp.MustCompile(`0x[0-9a-f]+`)
	goID    = regexp.MustCompile(`goroutine\(\d+\)`) // ids differ from run to run
)

// TestKernelCondREPL: a hit condition the kernel evaluates stops where the
// stop-and-evaluate path stops, showing the same arguments and locals,
// and the listing says which way each ran.
func TestKernelCondREPL(t *testing.T) {
	testenv.RequireRoot(t)
	script := "break main.hot\ncondition -hitcount 1 == 501\ncontinue\nargs\nlocals\nprint *p\nbreakpoints\nexit\n"
	compareWays(t, script, "\tcond -hitcount == 501")
	script = "break main.hot if i == 500\ncontinue\nargs\nlocals\nprint *p\nbreakpoints\nexit\n"
	compareWays(t, script, "\tcond i == 500")
}

func compareWays(t *testing.T, script, condLine string) {
	t.Setenv("TINYDBG_KERNEL_COND", "")
	kernel, errK := runREPL(t, "condloop", script)
	t.Setenv("TINYDBG_KERNEL_COND", "0")
	stop, errS := runREPL(t, "condloop", script)
	if errK != "" || errS != "" {
		t.Fatalf("stderr: %q %q", errK, errS)
	}
	for _, want := range []string{"i = 500\n", condLine + " (in kernel)\n", "Breakpoint 1 (enabled) at "} {
		if !strings.Contains(kernel, want) {
			t.Fatalf("kernel run lacks %q:\n%s", want, kernel)
		}
	}
	if !strings.Contains(stop, condLine+" (stops to evaluate: TINYDBG_KERNEL_COND=0)\n") {
		t.Fatalf("stop-and-evaluate run:\n%s", stop)
	}
	same := func(s string) string {
		s = strings.ReplaceAll(s, "(in kernel)", "MODE")
		s = strings.ReplaceAll(s, "(stops to evaluate: TINYDBG_KERNEL_COND=0)", "MODE")
		s = goID.ReplaceAllString(s, "goroutine(G)")
		return hexAddr.ReplaceAllString(s, "0xADDR")
	}
	if same(kernel) != same(stop) {
		a, b := strings.Split(same(kernel), "\n"), strings.Split(same(stop), "\n")
		for i := range a {
			if i >= len(b) || a[i] != b[i] {
				t.Fatalf("the two ways differ at line %d:\nkernel: %q\nstop:   %q\n%s", i+1, a[i], b[min(i, len(b)-1)], kernel)
			}
		}
		t.Fatalf("the stop-and-evaluate run has more:\n%s", stop)
	}
}

// TestKernelCondFallbackListed: a condition that does not compile stops
// to evaluate, and the listing says why.
func TestKernelCondFallbackListed(t *testing.T) {
	testenv.RequireRoot(t)
	out, _ := runREPL(t, "condloop", "break main.hot if hot(i, p) == 4\nbreakpoints\nexit\n")
	if !strings.Contains(out, "\tcond hot(i, p) == 4 (stops to evaluate: function call") {
		t.Fatalf("listing:\n%s", out)
	}
}
