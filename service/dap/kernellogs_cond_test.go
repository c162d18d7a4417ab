package dap

import (
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestKernelLogpointConditions: logpoints with conditions that compile
// run in the kernel, which evaluates each condition in front of the
// capture: the program never stops (logRun fails on a stop), only the
// lines whose condition holds are logged, and they are the lines the
// stopping evaluator logs for the same conditions.
func TestKernelLogpointConditions(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	msgs := map[int]string{
		14: "add a={a} b={b}",
		15: "sum={sum}",
		20: "scale k={k}",
		25: "describe p.Name={p.Name} p.X={p.X}",
	}
	conds := map[int]string{14: "a == 3", 15: "sum == 8", 20: "k == 3", 25: `p.Name == "pt" && p.X > 5`}
	lines := []int{14, 15, 20, 25}
	want := "> [Go 1]: add a=3 b=4\n" + `> [Go 1]: describe p.Name="pt" p.X=6` + "\n"
	before := testenv.BPFLinks(t)
	kernel, kconsole, links := logRun(t, bin, src, conds, msgs, lines)
	if links <= before {
		t.Errorf("%d BPF links while the logpoints were set, %d before", links, before)
	}
	for _, l := range kconsole {
		if strings.Contains(l, "stops the program") {
			t.Errorf("kernel run: %q", l)
		}
	}
	if got := strings.Join(kernel, ""); got != want {
		t.Errorf("kernel logged %q, want %q", got, want)
	}
	t.Setenv("TINYDBG_KERNEL_COND", "0")
	stopped, _, _ := logRun(t, bin, src, conds, msgs, lines)
	if got := strings.Join(stopped, ""); got != want {
		t.Errorf("stopping run logged %q, want %q", got, want)
	}
}
