package trace

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// requireBPF stops the test unless uprobes can be attached here.
func requireBPF(t testing.TB) {
	t.Helper()
	testenv.RequireRoot(t)
	if _, err := os.Stat("/sys/bus/event_source/devices/uprobe/type"); err != nil {
		testenv.SkipOrFail(t, "kernel has no uprobe PMU: %v", err)
	}
}

// TestBackendsAgree runs the same program under both backends: every line
// must be the same, values included.
func TestBackendsAgree(t *testing.T) {
	requireBPF(t)
	for _, fl := range []fixture.Flavour{{}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			var pbuf, ebuf bytes.Buffer
			psum := runTrace(t, fl, Options{}, NewTextWriter(&pbuf))
			esum := runTrace(t, fl, Options{EBPF: true}, NewTextWriter(&ebuf))
			// Goroutine ids of the jobs vary from run to run (the runtime
			// starts its own goroutines with timing-dependent ids).
			pg2, pg3 := goroutinesOf(t, pbuf.String())
			eg2, eg3 := goroutinesOf(t, ebuf.String())
			pnorm := strings.NewReplacer("goroutine("+pg2+")", "goroutine(G2)", "goroutine("+pg3+")", "goroutine(G3)").Replace(pbuf.String())
			enorm := strings.NewReplacer("goroutine("+eg2+")", "goroutine(G2)", "goroutine("+eg3+")", "goroutine(G3)").Replace(ebuf.String())
			if pnorm != expand(wantText, "G2", "G3") {
				t.Fatalf("ptrace trace:\n%s", pbuf.String())
			}
			plines := strings.Split(pnorm, "\n")
			elines := strings.Split(enorm, "\n")
			if len(plines) != len(elines) {
				t.Fatalf("ptrace:\n%s\nebpf:\n%s", pbuf.String(), ebuf.String())
			}
			for i := range plines {
				if plines[i] != elines[i] {
					t.Fatalf("line %d: ebpf %q, ptrace %q\nptrace:\n%s\nebpf:\n%s", i, elines[i], plines[i], pbuf.String(), ebuf.String())
				}
			}
			if esum.Backend != "ebpf" || esum.Events != 12 || esum.Dropped != 0 || esum.Probes != psum.Probes || !esum.Exited {
				t.Fatalf("ebpf summary %+v (ptrace %+v)", esum, psum)
			}
		})
	}
}
