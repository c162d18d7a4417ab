package terminal_test

import (
	"io"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/terminal"
	"github.com/tinydbg/tinydbg/service/debugger"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// BenchmarkREPLContinue measures one `continue` typed into the REPL that
// stops at a breakpoint, through the same path `tinydbg exec` uses: the
// terminal, the JSON-RPC client and server over an in-process pipe, the
// debugger facade and the core. The printed output is discarded.
func BenchmarkREPLContinue(b *testing.B) {
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
	srv, err := rpc2.NewServer(rpc2.Config{Stderr: io.Discard}, d)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	serverEnd, clientEnd := net.Pipe()
	go srv.ServeConn(serverEnd)
	c, err := rpc2.NewClientFromConn(clientEnd)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var errOut strings.Builder
	script := "break main.hot\ncontinue\n" + strings.Repeat("continue\n", b.N)
	term := terminal.New(terminal.NewRPCClient(c), terminal.Config{
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
