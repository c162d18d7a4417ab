package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// headlessProc is a headless server started with exactly the given argv.
type headlessProc struct {
	cmd    *exec.Cmd
	addr   string
	exited chan error
}

// startRaw runs tinydbg with argv and reads the banner from stdout, or
// from bannerFile when --log-dest sends it there.
func startRaw(t *testing.T, bannerFile string, argv ...string) *headlessProc {
	t.Helper()
	cmd := exec.Command(tinydbgBin, argv...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &headlessProc{cmd: cmd, exited: make(chan error, 1)}
	var line string
	if bannerFile == "" {
		line, err = bufio.NewReader(out).ReadString('\n')
	} else {
		// The log shares the file: the banner is its first line that
		// says so.
		for deadline := time.Now().Add(30 * time.Second); line == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			b, _ := os.ReadFile(bannerFile)
			for _, l := range strings.SplitAfter(string(b), "\n") {
				if strings.HasPrefix(l, "API server listening at: ") && strings.HasSuffix(l, "\n") {
					line = l
					break
				}
			}
		}
	}
	go func() { h.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-h.exited
		h.exited <- nil
	})
	if err != nil {
		t.Fatalf("reading the banner: %v", err)
	}
	m := regexp.MustCompile(`^API server listening at: (127\.0\.0\.1:\d+)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("banner %q", line)
	}
	h.addr = m[1]
	return h
}

// waitExit waits for the server to end by itself.
func (h *headlessProc) waitExit(t *testing.T) {
	t.Helper()
	select {
	case err := <-h.exited:
		h.exited <- err
	case <-time.After(20 * time.Second):
		t.Fatal("the headless server did not exit")
	}
}

// TestGoLandCommandLine runs the exact command line GoLand starts Delve
// with, and debugs through it with tinydbg's client.
func TestGoLandCommandLine(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	h := startRaw(t, "", "--listen=127.0.0.1:0", "--headless=true", "--api-version=2",
		"--check-go-version=false", "--only-same-user=false", "exec", bin, "--")
	c, err := rpc2.Dial(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.add"}, ""); err != nil {
		t.Fatal(err)
	}
	st, err := c.Continue()
	if err != nil {
		t.Fatal(err)
	}
	if th := st.CurrentThread; th == nil || th.Function == nil || th.Function.Name() != "main.add" {
		t.Fatalf("stopped at %+v", st.CurrentThread)
	}
	v, err := c.Eval(api.EvalScope{GoroutineID: -1}, "a+b", api.LoadConfig{})
	if err != nil || v.Value != "7" {
		t.Fatalf("a+b = %+v, %v", v, err)
	}
	if err := c.Detach(true); err != nil {
		t.Fatal(err)
	}
	h.waitExit(t)
}

// TestOnlySameUser connects as another user (nobody): the default server
// hangs up on it, --only-same-user=false answers it.
func TestOnlySameUser(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t) // connecting as another user needs root
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	const client = `import socket,sys
h,p=sys.argv[1].rsplit(":",1)
s=socket.create_connection((h,int(p)),timeout=10)
try:
    s.sendall(b'{"method":"RPCServer.GetVersion","params":[{}],"id":1}')
    print(s.recv(4096).decode()[:40] or "closed")
except OSError:
    print("closed")`
	for _, tc := range []struct {
		flag, want string
	}{
		{"--only-same-user=true", "closed\n"},
		{"--only-same-user=false", `{"id":1,"result":{"DelveVersion":"tinydb` + "\n"},
	} {
		h := startRaw(t, "", "exec", "--headless", "--accept-multiclient", tc.flag, bin)
		cmd := exec.Command("/usr/bin/python3", "-c", client, h.addr)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: client: %v", tc.flag, err)
		}
		if string(out) != tc.want {
			t.Errorf("%s: another user got %q, want %q", tc.flag, out, tc.want)
		}
	}
}

// TestDelveFlagsHonoured checks each of Delve's flags on a real session.
func TestDelveFlagsHonoured(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	dir := t.TempDir()

	t.Run("redirect and log", func(t *testing.T) {
		outFile, logFile := filepath.Join(dir, "out"), filepath.Join(dir, "log")
		h := startRaw(t, logFile, "exec", "--headless", "-r", "stdout:"+outFile, "--log", "--log-output=rpc,debugger",
			"--log-dest="+logFile, "--disable-aslr", "--backend=native", bin, "--", "x")
		c, err := rpc2.Dial(h.addr)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := c.ProcessPid()
		if err != nil {
			t.Fatal(err)
		}
		pers, err := os.ReadFile(fmt.Sprintf("/proc/%d/personality", pid))
		if err != nil {
			t.Fatal(err)
		}
		const addrNoRandomize = 0x0040000
		if p, err := strconv.ParseUint(strings.TrimSpace(string(pers)), 16, 32); err != nil || p&addrNoRandomize == 0 {
			t.Errorf("--disable-aslr: personality %q", pers)
		}
		st, err := c.Continue()
		if err != nil || !st.Exited {
			t.Fatalf("continue: %+v, %v", st, err)
		}
		if b, _ := os.ReadFile(outFile); string(b) != "pt(6,8) 7 14\nargs: [x]\n" {
			t.Errorf("-r stdout: the file holds %q", b)
		}
		c.Detach(true)
		h.waitExit(t)
		b, _ := os.ReadFile(logFile)
		log := string(b)
		for _, want := range []string{
			"API server listening at: " + h.addr + "\n",
			fmt.Sprintf(" info layer=debugger launched process %d: %s x\n", pid, bin),
			` info layer=rpc <- RPCServer.ProcessPid([{}])` + "\n",
			` info layer=rpc -> {"id":`,
		} {
			if !strings.Contains(log, want) {
				t.Errorf("the log lacks %q:\n%s", want, log)
			}
		}
		if strings.Contains(log, "layer=dap") {
			t.Errorf("dap logged though not asked for:\n%s", log)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"exec", "--backend=rr", bin}, "Error: --backend=rr is not supported: tinydbg has only the native (ptrace) backend\n"},
			{[]string{"--backend=lldb", "exec", bin}, "Error: --backend=lldb is not supported: tinydbg has only the native (ptrace) backend\n"},
			{[]string{"exec", "--backend=frob", bin}, "Error: unknown backend \"frob\": tinydbg has only the native (ptrace) backend\n"},
			{[]string{"exec", "--log-output=rpc", bin}, "Error: --log-output specified without --log\n"},
			{[]string{"exec", "-r", "a", "-r", "stdin:b", bin}, "Error: redirect error: stdin redirected twice\n"},
			{[]string{"exec", "-r", filepath.Join(dir, "missing"), bin}, "Error: redirect error: open " + filepath.Join(dir, "missing") + ": no such file or directory\n"},
			{[]string{"attach", "-r", "stdout:x", strconv.Itoa(os.Getpid())}, "Error: --redirect applies to programs tinydbg starts, not to attach\n"},
		} {
			r := run(t, dir, "", tc.args...)
			if r.code == 0 || r.stderr != tc.want {
				t.Errorf("tinydbg %v: code %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
			}
		}
	})

	t.Run("terminal on pipes", func(t *testing.T) {
		r := run(t, dir, "continue\nexit\n", "exec", "--allow-non-terminal-interactive=true", "--check-go-version=true", bin)
		if r.code != 0 || !strings.Contains(r.stdout, "pt(6,8) 7 14\n") {
			t.Fatalf("code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}

// TestCheckGoVersion checks the verdicts of --check-go-version.
func TestCheckGoVersion(t *testing.T) {
	for _, tc := range []struct {
		version   string
		check     bool
		err, warn string
	}{
		{"go1.26.8", true, "", ""},
		{"go1.22.12", true, "", ""},
		{"devel +abc", true, "", ""},
		{"go1.21.5", true, "Go version go1.21.5 is too old for this version of tinydbg (minimum supported version 1.22, suppress this error with --check-go-version=false)", ""},
		{"go1.27rc1", true, "Version of tinydbg is too old for Go version go1.27rc1 (maximum supported version 1.26, suppress this error with --check-go-version=false)", ""},
		{"go1.21.5", false, "", "WARNING: undefined behavior - Go version go1.21.5 is too old for this version of tinydbg (minimum supported version 1.22)\n"},
	} {
		var warn bytes.Buffer
		d := delveFlags{checkGoVersion: tc.check}
		err := d.checkGo(tc.version, &warn)
		if got := fmt.Sprint(err); (tc.err == "" && err != nil) || (tc.err != "" && got != tc.err) || warn.String() != tc.warn {
			t.Errorf("%s check=%v: error %v, warning %q; want %q, %q", tc.version, tc.check, err, warn.String(), tc.err, tc.warn)
		}
	}
}
