package terminal_test

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/gobuild"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/terminal"
	"github.com/tinydbg/tinydbg/service/debugger"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// TestJump: jump moves the PC past Scale and describe, so p keeps its
// coordinates (msg is left unset: its slot holds whatever it held, the
// danger Delve's help warns of); a location in another function, none,
// or one with several addresses is refused with Delve's words, the PC
// left where it was.
func TestJump(t *testing.T) {
	script := "config source-list-line-count 0\nbreak main.go:33\ncontinue\njump main.add\njump\n" +
		"jump main.go:35\nnext\nprint p\nprint counter\nexit\n"
	out, errOut := runREPL(t, "basic", script)
	want := "Breakpoint 1 set at 0xPC for main.main() ./main.go:33\n" +
		"> [Breakpoint 1] main.main() ./main.go:33 (hits goroutine(1):1 total:1) (PC: 0xPC)\n" +
		"=>  33:\t\tp.Scale(2)\n" +
		"> [Breakpoint 1] main.main() ./main.go:35 (hits goroutine(1):1 total:1) (PC: 0xPC)\n" +
		"=>  35:\t\tcounter += n\n" +
		"> main.main() ./main.go:36 (PC: 0xPC)\n" +
		"=>  36:\t\tfmt.Println(msg, n, counter)\n" +
		"main.Point {X: 3, Y: 4, Name: \"pt\"}\n" +
		"14\n"
	if got := hexRE.ReplaceAllString(out, "0xPC"); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	wantErr := "Command failed: can not set the next execution point outside of the current function\n" +
		"Command failed: jump requires a location\n"
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
}

// TestEdit: edit runs $DELVE_EDITOR (else $EDITOR) with its own words
// first, then +line and the file: of the stop, of the selected frame, or
// of a location.
func TestEdit(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "args")
	editor := filepath.Join(dir, "fake-editor")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\necho \"$@\" >> "+log+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DELVE_EDITOR", "")
	t.Setenv("EDITOR", editor+" -w")
	_, errOut := runREPL(t, "basic", "break main.add\ncontinue\nedit\nup\nedit\nedit main.describe\nframe 1 edit\nexit\n")
	src := filepath.Join(fixture.Dir(), "basic", "main.go")
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll("-w +13 SRC\n-w +32 SRC\n-w +23 SRC\n-w +32 SRC\n", "SRC", src)
	if got := string(b); got != want {
		t.Errorf("editor calls:\n%s\nwant:\n%s", got, want)
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
	t.Setenv("EDITOR", "")
	_, errOut = runREPL(t, "basic", "edit main.add\nexit\n")
	if errOut != "Command failed: Neither DELVE_EDITOR or EDITOR is set\n" {
		t.Errorf("without an editor: %q", errOut)
	}
}

// TestRebuild: rebuild compiles the edited source into the same binary
// and restarts it; the breakpoint, set by function name, applies to the
// new code. A session whose binary tinydbg did not build refuses.
func TestRebuild(t *testing.T) {
	testenv.RequirePtrace(t)
	dir := t.TempDir()
	src := "package main\n\nimport \"fmt\"\n\nfunc value() int {\n\treturn 1\n}\n\nfunc main() {\n\tfmt.Println(value())\n}\n"
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(src)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module rebuildme\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "prog")
	build := func() error {
		_, _, err := gobuild.Build(gobuild.Options{Dir: dir, Output: bin})
		return err
	}
	if err := build(); err != nil {
		t.Fatal(err)
	}
	c := startConfigured(t, debugger.Config{Path: bin, Rebuild: func() error {
		write(strings.Replace(src, "return 1", "return 2", 1))
		return build()
	}})
	var out, errOut strings.Builder
	term := terminal.New(c, terminal.Config{Stdin: strings.NewReader(
		"config source-list-line-count 0\nbreak main.value\ncontinue\nstepout\nrebuild\ncontinue\nstepout\nexit\n"),
		Stdout: &out, Stderr: &errOut, HistoryFile: "-"})
	if _, err := term.Run(); err != nil {
		t.Fatal(err)
	}
	got := hexRE.ReplaceAllString(out.String(), "0xPC")
	for _, w := range []string{"Values returned:\n\t~r0: 1\n", "Values returned:\n\t~r0: 2\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("no %q in:\n%s", w, got)
		}
	}
	if errOut.String() != "" {
		t.Errorf("stderr: %q", errOut.String())
	}
	_, errs := runREPL(t, "basic", "rebuild\nexit\n")
	if errs != "Command failed: cannot rebuild a binary\n" {
		t.Errorf("rebuild of an exec session: %q", errs)
	}
}

// startConfigured is startSession with a full debugger configuration.
func startConfigured(tb testing.TB, cfg debugger.Config) *rpc2.Client {
	tb.Helper()
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { devnull.Close() })
	cfg.Stdout, cfg.Stderr = devnull, devnull
	d, err := debugger.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := rpc2.NewServer(rpc2.Config{Stderr: io.Discard}, d)
	if err != nil {
		tb.Fatal(err)
	}
	serverEnd, clientEnd := net.Pipe()
	go srv.ServeConn(serverEnd)
	c, err := rpc2.NewClientFromConn(clientEnd)
	if err != nil {
		srv.Stop()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c.Close()
		srv.Stop()
	})
	return c
}
