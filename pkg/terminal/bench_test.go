package terminal_test

import (
	"io"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/terminal"
)

// BenchmarkREPLContinue measures one `continue` typed into the REPL that
// stops at a breakpoint, through the same path `tinydbg exec` uses: the
// terminal, the JSON-RPC client and server over an in-process pipe, the
// debugger facade and the core. The printed output is discarded.
func BenchmarkREPLContinue(b *testing.B) {
	testenv.RequirePtrace(b)
	bin := fixture.Build(b, "hotloop", fixture.Flavour{})
	c := startSession(b, bin)
	var errOut strings.Builder
	script := "break main.hot\ncontinue\n" + strings.Repeat("continue\n", b.N)
	term := terminal.New(c, terminal.Config{
		Stdin: strings.NewReader(script), Stdout: io.Discard, Stderr: &errOut, HistoryFile: "-"})
	b.ResetTimer()
	if _, err := term.Run(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if errOut.Len() > 0 {
		b.Fatalf("the REPL reported errors: %s", errOut.String())
	}
}
