package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestNonLoopbackListenersWarn starts every kind of server on the wildcard
// address and on loopback: the first warn on stderr before announcing
// their address, the second say nothing there.
func TestNonLoopbackListenersWarn(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	const apiWarn = "WARNING: the API server listens on %s, which is not a loopback address.\n" +
		"WARNING: anyone who can connect to it can run arbitrary code as this user.\n"
	const dapWarn = "WARNING: the DAP server listens on %s, which is not a loopback address.\n" +
		"WARNING: connections are neither authenticated nor encrypted: anyone who can reach it can run arbitrary code as this user.\n"
	cases := []struct {
		args   []string
		banner string
		warn   string
	}{
		{[]string{"exec", "--headless", "--listen=0.0.0.0:0", bin}, "API", apiWarn},
		{[]string{"--headless", "--listen=0.0.0.0:0", "exec", bin}, "API", apiWarn},
		{[]string{"exec", "--headless", "--listen=127.0.0.1:0", bin}, "API", ""},
		{[]string{"dap", "--listen=0.0.0.0:0"}, "DAP", dapWarn},
		{[]string{"dap", "--listen=127.0.0.1:0"}, "DAP", ""},
	}
	for _, c := range cases {
		cmd := exec.Command(tinydbgBin, c.args...)
		// A file, not a buffer: the child writes it directly, so what it
		// wrote before the banner is there once the banner is read.
		stderr, err := os.CreateTemp(t.TempDir(), "stderr")
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		go io.Copy(io.Discard, out)
		// The warning is written before the banner, so it is complete now.
		b, _ := os.ReadFile(stderr.Name())
		got := string(b)
		cmd.Process.Kill()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%v did not end when killed", c.args)
		}
		if err != nil {
			t.Fatalf("%v: reading the banner: %v (stderr %q)", c.args, err, got)
		}
		m := regexp.MustCompile(`^` + c.banner + ` server listening at: (\S+)\n$`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%v: banner %q", c.args, line)
		}
		want := ""
		if c.warn != "" {
			want = strings.ReplaceAll(c.warn, "%s", m[1])
		}
		if got != want {
			t.Errorf("%v: stderr\n%q\nwant\n%q", c.args, got, want)
		}
	}
}
