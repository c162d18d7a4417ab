package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-dap"

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
	conn, err := net.Dial("tcp", "127.0.0.1:"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	seq := 0
	send := func(command string, args any) {
		seq++
		b, _ := json.Marshal(map[string]any{"seq": seq, "type": "request", "command": command, "arguments": args})
		if err := dap.WriteBaseMessage(conn, b); err != nil {
			t.Fatal(err)
		}
	}
	// waitFor reads messages until one of type T.
	var got []string
	waitFor := func(want string) {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			m, err := dap.ReadProtocolMessage(r)
			if err != nil {
				t.Fatalf("waiting for %s after %v: %v", want, got, err)
			}
			b, _ := json.Marshal(m)
			got = append(got, string(b))
			if ev, ok := m.(*dap.ExitedEvent); ok && ev.Body.ExitCode != 0 {
				t.Fatalf("exit code %d", ev.Body.ExitCode)
			}
			if strings.Contains(string(b), want) {
				return
			}
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
