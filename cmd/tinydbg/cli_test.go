package main

import (
	"bufio"
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

func TestBadInputFailsWithOneLine(t *testing.T) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "notelf")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cBin, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	noDWARF := fixture.Build(t, "basic", fixture.Flavour{NoDWARF: true})
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"exec", filepath.Join(dir, "missing")}, "Error: " + filepath.Join(dir, "missing") + " does not exist"},
		{[]string{"exec", notELF}, "Error: " + notELF + " is not an ELF executable"},
		{[]string{"exec", cBin}, "Error: " + cBin + " is not a Go program (no Go build information)"},
		{[]string{"exec", noDWARF}, "Error: " + noDWARF + " has no DWARF debug information (was it built with -ldflags=-w or -s?); rebuild it without them"},
		{[]string{"attach", "999999999"}, "Error: no process with pid 999999999"},
		{[]string{"attach", "abc"}, `Error: invalid pid "abc": must be a number`},
		{[]string{"connect", "127.0.0.1:1"}, "Error: cannot connect to 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused"},
		{[]string{"exec", "--api-version", "1", fixture.Build(t, "basic", fixture.Flavour{})}, "Error: API version 1 is not supported: tinydbg speaks API v2 only"},
		{[]string{"frobnicate"}, `Error: unknown command "frobnicate" for "tinydbg"`},
		{[]string{"trace", "-e", fixture.Build(t, "basic", fixture.Flavour{}), "--depth", "-1", "main.add"}, "Error: --depth must be 0 or more, got -1"},
		{[]string{"trace", "-e", fixture.Build(t, "basic", fixture.Flavour{}), "--stack", "-2", "main.add"}, "Error: --stack must be 0 or more, got -2"},
	}
	for _, c := range cases {
		r := run(t, dir, "", c.args...)
		if r.code == 0 {
			t.Errorf("tinydbg %v: exit code 0, want non-zero", c.args)
		}
		if r.stderr != c.want+"\n" {
			t.Errorf("tinydbg %v: stderr\n%q\nwant\n%q", c.args, r.stderr, c.want+"\n")
		}
		if strings.Contains(r.stderr, "panic") {
			t.Errorf("tinydbg %v panicked", c.args)
		}
	}
}

// startHeadless runs a headless server and returns its address once the
// "API server listening at:" line appears.
func startHeadless(t *testing.T, args ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(tinydbgBin, append([]string{"--headless"}, args...)...)
	cmd.Dir = fixtureDir("basic")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listen line: %v", err)
	}
	m := regexp.MustCompile(`^API server listening at: (127\.0\.0\.1:\d+)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("headless printed %q, want exactly \"API server listening at: 127.0.0.1:PORT\"", line)
	}
	return m[1], cmd
}

func TestHeadlessAndConnect(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	addr, server := startHeadless(t, "exec", bin)
	r := run(t, fixtureDir("basic"), "break main.add\ncontinue\nprint a+b\nexit\ny\n", "connect", addr)
	if r.code != 0 {
		t.Fatalf("connect exit code %d: %s", r.code, r.stderr)
	}
	expectBlock(t, r.stdout, "=>  13:\tfunc add(a, b int) int {")
	expectBlock(t, r.stdout, "    18:\tfunc (p *Point) Scale(k int) {", "7", "Would you like to kill the headless instance? [Y/n] ")
	done := make(chan error, 1)
	go func() { done <- server.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the headless server kept running after its only client asked to kill it")
	}
}

func TestAttachRefusesTracedProcess(t *testing.T) {
	testenv.RequirePtrace(t)
	sleeper := exec.Command(fixture.Build(t, "sleeper", fixture.Flavour{}))
	out, err := sleeper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	// Registered before the server's cleanup, so it runs after it: a
	// traced child is only reaped once its tracer is gone.
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(sleeper.Process.Pid)
	_, server := startHeadless(t, "attach", pid)
	r := run(t, t.TempDir(), "", "attach", pid)
	want := "Error: process " + pid + " is already being traced by process " + strconv.Itoa(server.Process.Pid) + " (tinydbg)\n"
	if r.code == 0 || r.stderr != want {
		t.Errorf("attach to a traced process: code %d, stderr %q, want %q", r.code, r.stderr, want)
	}
}

func TestDebugBuildsAndRemovesBinary(t *testing.T) {
	testenv.RequirePtrace(t)
	tmp := t.TempDir()
	cmd := exec.Command(tinydbgBin, "debug", "--", "extra")
	cmd.Dir = fixtureDir("basic")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.Stdin = strings.NewReader("continue\nexit\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("debug: %v\n%s", err, out)
	}
	for _, want := range []string{"pt(6,8) 7 14\n", "args: [extra]\n", "has exited with status 0\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("debug output lacks %q:\n%s", want, out)
		}
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "tinydbg-build-*"))
	if len(left) != 0 {
		t.Errorf("debug left its binary behind: %v", left)
	}
}

// TestSessionFlagsBelongToSessionCommands: trace's help shows only the
// shared --wd and --build-flags besides its own flags, exec's help shows
// the session flags, trace refuses them, and Delve's spelling with the
// session flags before the command name still works for exec.
func TestSessionFlagsBelongToSessionCommands(t *testing.T) {
	session := []string{"--headless", "--listen", "--accept-multiclient", "--api-version", "--init"}
	trace := run(t, t.TempDir(), "", "trace", "--help")
	for _, f := range session {
		if strings.Contains(trace.stdout, f) {
			t.Errorf("trace --help shows %s:\n%s", f, trace.stdout)
		}
	}
	for _, f := range []string{"--wd", "--build-flags"} {
		if !strings.Contains(trace.stdout, f) {
			t.Errorf("trace --help lacks %s:\n%s", f, trace.stdout)
		}
	}
	for _, cmd := range []string{"debug", "exec", "test", "attach", "connect"} {
		help := run(t, t.TempDir(), "", cmd, "--help")
		for _, f := range session {
			if !strings.Contains(help.stdout, f) {
				t.Errorf("%s --help lacks %s:\n%s", cmd, f, help.stdout)
			}
		}
	}
	r := run(t, t.TempDir(), "", "trace", "--headless", "main.nothing")
	want := "Error: --headless applies to the debug, exec, test, attach and connect commands, not to trace\n"
	if r.code == 0 || r.stderr != want {
		t.Errorf("trace --headless: code %d stderr %q, want %q", r.code, r.stderr, want)
	}
}
