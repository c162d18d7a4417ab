package rpc2_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

func TestListenWarnsOffLoopback(t *testing.T) {
	var out, errOut bytes.Buffer
	l, err := rpc2.Listen("0.0.0.0:0", &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !strings.Contains(errOut.String(), "WARNING: the API server listens on [::]:") {
		t.Fatalf("stderr %q", errOut.String())
	}
	if out.String() != "API server listening at: "+l.Addr().String()+"\n" {
		t.Fatalf("stdout %q", out.String())
	}
	out.Reset()
	errOut.Reset()
	l2, err := rpc2.Listen("127.0.0.1:0", &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if errOut.Len() != 0 {
		t.Fatalf("loopback warned: %q", errOut.String())
	}
}

// lockedWriter collects the server's diagnostics.
type lockedWriter struct {
	ch chan string
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.ch <- string(b)
	return len(b), nil
}

// TestOtherUserRefused connects as uid 65534 (nobody) and expects the
// server to hang up on it, then serves a same-user client over a unix
// socket.
func TestOtherUserRefused(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	d, err := debugger.New(debugger.Config{Path: bin})
	if err != nil {
		t.Fatal(err)
	}
	l, err := rpc2.Listen("127.0.0.1:0", io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	diag := lockedWriter{ch: make(chan string, 8)}
	srv, err := rpc2.NewServer(rpc2.Config{AcceptMulti: true, Stderr: diag}, d)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(l); close(done) }()
	defer func() { srv.Stop(); <-done }()

	port := l.Addr().(*net.TCPAddr).Port
	// bash's /dev/tcp connects; cat returns as soon as the server closes.
	cmd := exec.Command("bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d && cat <&3", port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	finished := make(chan error, 1)
	go func() { finished <- cmd.Run() }()
	select {
	case msg := <-diag.ch:
		if !strings.Contains(msg, "connection from uid 65534 refused") {
			t.Fatalf("diagnostic %q", msg)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no refusal reported")
	}
	select {
	case err := <-finished:
		if err != nil {
			t.Fatalf("other user's client: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("connection of another user left open")
	}

	// A unix socket server for the same user works.
	sock := filepath.Join(t.TempDir(), "api.sock")
	ul, err := rpc2.Listen("unix:"+sock, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ul)
	c, err := rpc2.Dial("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bp, err := c.CreateBreakpoint(&api.Breakpoint{}, "main.add")
	if err != nil || bp.Line != 13 || bp.FunctionName != "main.add" {
		t.Fatalf("breakpoint over unix socket: %+v %v", bp, err)
	}
}
