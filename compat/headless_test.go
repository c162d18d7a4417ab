package compat

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-delve/delve/service/api"
	delverpc "github.com/go-delve/delve/service/rpc2"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestHeadlessBinary runs `tinydbg exec --headless` as a user would, waits
// for the banner Delve's tools wait for, and drives it with Delve's client.
func TestHeadlessBinary(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	cmd := exec.Command(tinydbgBin, "exec", "--headless", "--listen", "127.0.0.1:0", bin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	var addr string
	select {
	case line := <-lines:
		const prefix = "API server listening at: "
		if !strings.HasPrefix(line, prefix) || !strings.HasPrefix(strings.TrimPrefix(line, prefix), "127.0.0.1:") {
			t.Fatalf("first line %q", line)
		}
		addr = strings.TrimPrefix(line, prefix)
	case <-time.After(30 * time.Second):
		t.Fatal("no banner")
	}

	c := delverpc.NewClient(addr)
	if _, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.describe"}); err != nil {
		t.Fatal(err)
	}
	st, err := continueOnce(t, c)
	stopAt(t, "continue", st, err, "main.describe", 23)
	args, err := c.ListFunctionArgs(api.EvalScope{GoroutineID: -1}, loadCfg)
	if err != nil {
		t.Fatal(err)
	}
	p := named(t, args, "p")
	if p.Type != "main.Point" || len(p.Children) != 3 || p.Children[0].Value != "6" || p.Children[1].Value != "8" || p.Children[2].Value != "pt" {
		t.Fatalf("p = %+v", p)
	}
	if err := c.Detach(true); err != nil {
		t.Fatal(err)
	}
	// The program's own output shows it was killed before printing.
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("tinydbg exited with %v; output %q", err, rest)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tinydbg still running after detach")
	}
	if len(rest) != 0 {
		t.Fatalf("output after detach: %q", rest)
	}
}
