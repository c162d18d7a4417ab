package compat

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// server is a DAP-speaking server process and the port it announced.
type server struct {
	cmd    *exec.Cmd
	port   string
	exited chan error
}

// startServer runs argv and waits for its "... server listening at:" line.
func startServer(t *testing.T, argv ...string) *server {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, exited: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() {
		}
		s.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.exited
	})
	select {
	case line := <-lines:
		m := regexp.MustCompile(`^(API|DAP) server listening at: 127\.0\.0\.1:(\d+)$`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%v announced %q", argv, line)
		}
		s.port = m[2]
	case <-time.After(30 * time.Second):
		t.Fatalf("%v announced nothing", argv)
	}
	return s
}

// dapClientDir holds the npm package of VS Code's DebugClient; .ci/run
// installs it (npm ci).
func dapClientDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("dapclient")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		testenv.SkipOrFail(t, "no node to run VS Code's DebugClient: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@vscode", "debugadapter-testsupport")); err != nil {
		testenv.SkipOrFail(t, "VS Code's DebugClient is not installed: run 'npm ci' in %s", dir)
	}
	return dir
}

// runDebugClient runs one scenario of dapclient/session.js against port.
func runDebugClient(t *testing.T, dir, scenario, port, bin, src string) {
	t.Helper()
	cmd := exec.Command("node", filepath.Join(dir, "session.js"), scenario, port, bin, src)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s: the DebugClient hung:\n%s", scenario, out)
	}
	if err != nil || !strings.HasSuffix(string(out), "PASS\n") {
		t.Fatalf("%s: %v\n%s", scenario, err, out)
	}
}

// TestVSCodeDebugClient runs VS Code's own DAP test client, as vscode-go
// drives a debugger, through a launch of a binary ("mode": "exec") on the
// DAP server and an attach in mode "remote" to a headless server, on
// tinydbg and, the same script, on dlv.
func TestVSCodeDebugClient(t *testing.T) {
	testenv.RequirePtrace(t)
	dir := dapClientDir(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	src := filepath.Join(fixture.Dir(), "basic", "main.go")
	debuggers := []struct{ name, path string }{{"tinydbg", tinydbgBin}}
	if dlvErr != nil {
		testenv.SkipOrFail(t, "no dlv %s to compare with: %v", dlvVersion, dlvErr)
	} else {
		debuggers = append(debuggers, struct{ name, path string }{"dlv", dlvBin})
	}
	for _, d := range debuggers {
		t.Run(d.name+"/launch-exec", func(t *testing.T) {
			s := startServer(t, d.path, "dap", "--listen=127.0.0.1:0")
			runDebugClient(t, dir, "launch-exec", s.port, bin, src)
		})
		t.Run(d.name+"/attach-remote", func(t *testing.T) {
			s := startServer(t, d.path, "exec", "--headless", "--accept-multiclient", "--listen=127.0.0.1:0", bin)
			runDebugClient(t, dir, "attach-remote", s.port, bin, src)
			// terminateDebuggee ended the multi-client server too.
			select {
			case err := <-s.exited:
				s.exited <- err
			case <-time.After(20 * time.Second):
				t.Fatal("the headless server kept running after the client terminated the debuggee")
			}
		})
	}
}
