package debugger_test

import (
	"os"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// BenchmarkContinueStop measures what one continue → breakpoint stop costs
// through the debugger facade: the core's resume and stop plus the
// DebuggerState every front end receives. Compare with the core's
// BenchmarkContinueCycle in pkg/proc to see the facade's share.
func BenchmarkContinueStop(b *testing.B) {
	testenv.RequirePtrace(b)
	bin := fixture.Build(b, "hotloop", fixture.Flavour{})
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	d, err := debugger.New(debugger.Config{Path: bin, Stdout: devnull, Stderr: devnull})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Detach(true)
	if _, err := d.CreateBreakpoint(api.Breakpoint{}, "main.hot"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := d.Command(api.DebuggerCommand{Name: api.Continue}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if st.CurrentThread == nil || st.CurrentThread.Breakpoint == nil {
			b.Fatalf("stop %+v is not at the breakpoint", st)
		}
	}
}
