package dap

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestOtherUserRefused connects as uid 65534 (nobody): the server must
// hang up on it and keep waiting, then serve its own user's client.
func TestOtherUserRefused(t *testing.T) {
	testenv.RequireRoot(t)
	ts := startServer(t)
	_, port, err := net.SplitHostPort(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	// bash's /dev/tcp connects; cat returns as soon as the server closes.
	cmd := exec.Command("bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%s && cat <&3", port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	finished := make(chan error, 1)
	go func() { finished <- cmd.Run() }()
	select {
	case err := <-finished:
		if err != nil {
			t.Fatalf("other user's client: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("connection of another user left open; log:\n%s", ts.log)
	}
	if log := ts.log.String(); !strings.Contains(log, "connection from uid 65534 refused") ||
		strings.Contains(log, "client connected") {
		t.Fatalf("server log:\n%s", log)
	}
	c := dial(t, ts)
	c.initialize()
	seq := c.send("disconnect", map[string]any{})
	expectResponse[*dap.DisconnectResponse](c, seq)
}

// TestLaunchEnv launches with env changes: the program sees the set
// variable and not the unset one, and the server's own environment, which
// later sessions inherit, is left as it was.
func TestLaunchEnv(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "envprint", fixture.Flavour{})
	t.Setenv("TINYDBG_ENV_UNSET", "server's")
	ts := startServer(t)
	c := dial(t, ts)
	c.launch(map[string]any{"request": "launch", "mode": "exec", "program": bin,
		"env": map[string]any{"TINYDBG_ENV_SET": "from launch", "TINYDBG_ENV_UNSET": nil}})
	seq := c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	if ex := expect[*dap.ExitedEvent](c); ex.Body.ExitCode != 0 {
		t.Fatalf("exit code %d", ex.Body.ExitCode)
	}
	expect[*dap.TerminatedEvent](c)
	if out, want := c.output(), "TINYDBG_ENV_SET=\"from launch\" true\nTINYDBG_ENV_UNSET=\"\" false\n"; out != want {
		t.Fatalf("program output %q, want %q", out, want)
	}
	if v, ok := os.LookupEnv("TINYDBG_ENV_SET"); ok {
		t.Errorf("server environment gained TINYDBG_ENV_SET=%q", v)
	}
	if v := os.Getenv("TINYDBG_ENV_UNSET"); v != "server's" {
		t.Errorf("server's TINYDBG_ENV_UNSET is %q, want it untouched", v)
	}
	seq = c.send("disconnect", map[string]any{})
	expectResponse[*dap.DisconnectResponse](c, seq)
}
