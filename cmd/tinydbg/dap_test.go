package main

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestDAPCommand runs `tinydbg dap` in-process: it announces its address
// as Delve does, serves one session to its end and returns.
func TestDAPCommand(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	cmd := newRootCommand()
	cmd.SetArgs([]string{"dap", "--listen=127.0.0.1:0"})
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	cmd.SetOut(pw)
	cmd.SetErr(&stderr)
	done := make(chan error, 1)
	go func() {
		done <- cmd.Execute()
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the announcement: %v", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "DAP server listening at: 127.0.0.1:")
	if !ok || addr == "" {
		t.Fatalf("announcement %q", line)
	}
	go io.Copy(io.Discard, pr)
	c := dialDAP(t, "127.0.0.1:"+addr)
	send, waitFor := c.send, func(want string) {
		t.Helper()
		if got := c.waitFor(want); strings.Contains(got, `"event":"exited"`) && !strings.Contains(got, `"exitCode":0`) {
			t.Fatalf("exited: %s", got)
		}
	}
	send("initialize", map[string]any{"adapterID": "go"})
	waitFor(`"command":"initialize"`)
	send("launch", map[string]any{"mode": "exec", "program": bin})
	waitFor(`"command":"launch"`)
	send("configurationDone", map[string]any{})
	waitFor(`"event":"exited"`)
	waitFor(`"event":"terminated"`)
	send("disconnect", map[string]any{})
	waitFor(`"command":"disconnect"`)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("tinydbg dap: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("tinydbg dap did not return after the session")
	}
	if !strings.HasPrefix(stderr.String(), "dap: client connected from 127.0.0.1:") || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("stderr %q", stderr.String())
	}
}

// TestDAPCommandRejectsArguments checks that the program to debug comes
// from the client, not the command line.
func TestDAPCommandRejectsArguments(t *testing.T) {
	cmd := newRootCommand()
	cmd.SetArgs([]string{"dap", "./prog"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err == nil {
		t.Fatal("tinydbg dap ./prog succeeded")
	}
}
