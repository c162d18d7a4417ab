package compat

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
	return startServerIn(t, "", argv...)
}

// startServerIn is startServer with the server's working directory set:
// vscode-go starts `dlv dap` in the program's directory, where dlv's
// go build must run.
func startServerIn(t *testing.T, dir string, argv ...string) *server {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
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

// session is one DebugClient session: see dapclient/session.js.
type session struct {
	Port      int            `json:"port"`
	Request   string         `json:"request"`
	Attrs     map[string]any `json:"attrs"`
	Source    string         `json:"source"`
	Line      int            `json:"line"`
	Func      string         `json:"func"`
	Locals    []string       `json:"locals"`
	Eval      string         `json:"eval"`
	Result    string         `json:"result"`
	Output    string         `json:"output,omitempty"`
	ExitCode  int            `json:"exitCode"`
	Terminate bool           `json:"terminate,omitempty"`
}

// runDebugClient runs one session of dapclient/session.js against port.
func runDebugClient(t *testing.T, dir, port string, s session) {
	t.Helper()
	var err error
	if s.Port, err = strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
	cfg, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(dir, "session.js"), string(cfg))
	done := make(chan struct{})
	var out []byte
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the DebugClient hung:\n%s", out)
	}
	if err != nil || !strings.HasSuffix(string(out), "PASS\n") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// testPackage writes a package with one test, for mode "test".
func testPackage(t *testing.T) (dir, src string) {
	dir = t.TempDir()
	files := map[string]string{
		"go.mod":       "module calc\n\ngo 1.22\n",
		"calc.go":      "package calc\n\nfunc Add(a, b int) int {\n\tsum := a + b\n\treturn sum\n}\n",
		"calc_test.go": "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(3, 4) != 7 {\n\t\tt.Fatal(\"bad sum\")\n\t}\n}\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, filepath.Join(dir, "calc.go")
}

// TestVSCodeDebugClient runs VS Code's own DAP test client through the
// sessions vscode-go starts: launch in modes exec, debug and test, attach
// to a process id, and attach in mode "remote" to a headless server; on
// tinydbg and, the same script, on dlv.
func TestVSCodeDebugClient(t *testing.T) {
	testenv.RequirePtrace(t)
	dir := dapClientDir(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	sleeper := fixture.Build(t, "sleeper", fixture.Flavour{})
	basicDir := filepath.Join(fixture.Dir(), "basic")
	src := filepath.Join(basicDir, "main.go")
	testDir, testSrc := testPackage(t)
	debuggers := []struct{ name, path string }{{"tinydbg", tinydbgBin}}
	if dlvErr != nil {
		testenv.SkipOrFail(t, "no dlv %s to compare with: %v", dlvVersion, dlvErr)
	} else {
		debuggers = append(debuggers, struct{ name, path string }{"dlv", dlvBin})
	}
	// At main.add's first line: its arguments and result, no locals yet.
	atAdd := session{Source: src, Line: 14, Func: "main.add", Locals: []string{"a", "b", "~r0"}, Eval: "a+b", Result: "7"}
	for _, d := range debuggers {
		t.Run(d.name+"/launch-exec", func(t *testing.T) {
			s := startServer(t, d.path, "dap", "--listen=127.0.0.1:0")
			run := atAdd
			// dlv sends the program's output to the client only when asked to.
			run.Request, run.Attrs = "launch", map[string]any{"mode": "exec", "program": bin, "args": []string{"x"}, "outputMode": "remote"}
			run.Output = "pt(6,8) 7 14\nargs: [x]\n"
			runDebugClient(t, dir, s.port, run)
		})
		t.Run(d.name+"/launch-debug", func(t *testing.T) {
			s := startServerIn(t, basicDir, d.path, "dap", "--listen=127.0.0.1:0")
			run := atAdd
			run.Request, run.Attrs = "launch", map[string]any{"mode": "debug", "program": basicDir, "args": []string{"x"}, "cwd": basicDir,
				"output": filepath.Join(t.TempDir(), "debug_bin"), "buildFlags": "", "outputMode": "remote"}
			run.Output = "pt(6,8) 7 14\nargs: [x]\n"
			runDebugClient(t, dir, s.port, run)
		})
		t.Run(d.name+"/launch-test", func(t *testing.T) {
			s := startServerIn(t, testDir, d.path, "dap", "--listen=127.0.0.1:0")
			runDebugClient(t, dir, s.port, session{Request: "launch",
				Attrs:  map[string]any{"mode": "test", "program": testDir, "cwd": testDir, "output": filepath.Join(t.TempDir(), "calc.test"), "outputMode": "remote"},
				Source: testSrc, Line: 4, Func: "calc.Add", Locals: []string{"a", "b", "~r0"}, Eval: "a+b", Result: "7", Output: "PASS\n"})
		})
		t.Run(d.name+"/attach-local", func(t *testing.T) {
			target := exec.Command(sleeper)
			out, err := target.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := target.Start(); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			t.Cleanup(func() {
				target.Process.Kill()
				<-waited
			})
			line, err := bufio.NewReader(out).ReadString('\n')
			go func() { waited <- target.Wait() }()
			if err != nil {
				t.Fatal(err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				t.Fatalf("sleeper printed %q", line)
			}
			s := startServer(t, d.path, "dap", "--listen=127.0.0.1:0")
			runDebugClient(t, dir, s.port, session{Request: "attach", Attrs: map[string]any{"mode": "local", "processId": pid},
				Source: filepath.Join(fixture.Dir(), "sleeper", "main.go"), Line: 12, Func: "main.tick",
				Locals: []string{"i", "~r0"}, Eval: "ticks == i", Result: "true", Terminate: true})
			select {
			case <-waited:
				waited <- nil
			case <-time.After(20 * time.Second):
				t.Fatal("terminateDebuggee left the attached process running")
			}
		})
		t.Run(d.name+"/attach-remote", func(t *testing.T) {
			s := startServer(t, d.path, "exec", "--headless", "--accept-multiclient", "--listen=127.0.0.1:0", bin)
			run := atAdd
			run.Request, run.Attrs, run.Terminate = "attach", map[string]any{"mode": "remote", "stopOnEntry": false}, true
			runDebugClient(t, dir, s.port, run)
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
