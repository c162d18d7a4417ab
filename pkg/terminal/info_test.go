package terminal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/terminal"
	"github.com/tinydbg/tinydbg/service/api"
)

// basicPackages is what Delve 1.27.2 prints for `packages` on the basic
// fixture built by go1.26 (the runtime's package set is the toolchain's).
const basicPackages = `fmt
internal/abi
internal/bisect
internal/bytealg
internal/byteorder
internal/chacha8rand
internal/cpu
internal/fmtsort
internal/godebug
internal/godebugs
internal/reflectlite
internal/runtime/atomic
internal/runtime/cgroup
internal/runtime/exithook
internal/runtime/gc/scan
internal/runtime/maps
internal/runtime/sys
internal/runtime/syscall/linux
internal/strconv
internal/stringslite
internal/sync
internal/syscall/unix
main
math/bits
os
reflect
runtime
sync
sync/atomic
syscall
time
unicode/utf8
`

// TestPackages lists the Go packages of the basic fixture sorted, one a
// line, filtered by a regexp and then all of them, as Delve does.
func TestPackages(t *testing.T) {
	out, errOut := runREPL(t, "basic", "packages ^(main|os|sync/atomic)$\npackages\npackages (\nexit\n")
	if want := "main\nos\nsync/atomic\n" + basicPackages; out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if want := "Command failed: invalid Filter pattern: error parsing regexp: missing closing ): `(`\n"; errOut != want {
		t.Errorf("stderr: %q, want %q", errOut, want)
	}
}

// TestLibraries lists the cgo fixture's shared libraries once the dynamic
// linker has run, each at the start of its lowest mapping in
// /proc/PID/maps (its load bias: both are linked at 0), in the link map's
// order; at the entry point, before the dynamic linker ran, and for a
// static binary, it prints nothing. All as Delve 1.27.2 prints them.
func TestLibraries(t *testing.T) {
	out, errOut := runREPL(t, "basic", "libraries\nbreak main.add\ncontinue\nlibraries\nexit\n")
	if strings.Contains(out, ". 0x") || errOut != "" {
		t.Errorf("static binary: stdout %q, stderr %q", out, errOut)
	}

	c := startSession(t, fixture.Build(t, "cgocall", fixture.Flavour{}))
	var entry strings.Builder
	term := terminal.New(c, terminal.Config{Stdin: strings.NewReader("libraries\n"), Stdout: &entry, Stderr: &entry, HistoryFile: "-"})
	if _, err := term.Run(); err != nil {
		t.Fatal(err)
	}
	if entry.String() != "" {
		t.Errorf("at entry: %q, want nothing", entry.String())
	}

	c = startSession(t, fixture.Build(t, "cgocall", fixture.Flavour{}))
	if _, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.main"}, ""); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Continue(); err != nil || st.Exited {
		t.Fatalf("continue: %v %+v", err, st)
	}
	pid, err := c.ProcessPid()
	if err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	base := func(path string) string {
		for _, line := range strings.Split(string(maps), "\n") {
			f := strings.Fields(line)
			if len(f) == 6 && f[5] == path {
				lo, _, _ := strings.Cut(f[0], "-")
				return "0x" + strings.TrimLeft(lo, "0")
			}
		}
		t.Fatalf("%s not mapped in:\n%s", path, maps)
		return ""
	}
	want := fmt.Sprintf("0. %s /lib/x86_64-linux-gnu/libc.so.6\n1. %s /lib64/ld-linux-x86-64.so.2\n",
		base("/usr/lib/x86_64-linux-gnu/libc.so.6"), base("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"))
	var got strings.Builder
	term = terminal.New(c, terminal.Config{Stdin: strings.NewReader("libraries\n"), Stdout: &got, Stderr: &got, HistoryFile: "-"})
	if _, err := term.Run(); err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Errorf("libraries:\n%s\nwant:\n%s", got.String(), want)
	}
}

// TestTranscript copies command lines and their output, not errors, to a
// file, appending or truncating, with or without the terminal's own
// output, as Delve 1.27.2 does (with tinydbg's prompt).
func TestTranscript(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
	if err := os.WriteFile(b, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := "transcript " + a + "\nbreak main.add\nprint 1+\ncontinue\ntranscript -off\nbreakpoints\n" +
		"transcript -x " + a + "\nprint 3\ntranscript -t -x " + b + "\nprint 4\ntranscript -off\n" +
		"transcript\ntranscript -y\ntranscript -off a\nexit\n"
	out, errOut := runREPL(t, "basic", script)
	out = hexRE.ReplaceAllString(out, "0xPC") // addresses depend on the toolchain
	const stop = "> [Breakpoint 1] main.add() ./main.go:13 (hits goroutine(1):1 total:1) (PC: 0xPC)\n" +
		"     8:\ttype Point struct {\n     9:\t\tX, Y int\n    10:\t\tName string\n    11:\t}\n    12:\t\n" +
		"=>  13:\tfunc add(a, b int) int {\n    14:\t\tsum := a + b\n    15:\t\treturn sum\n    16:\t}\n    17:\t\n" +
		"    18:\tfunc (p *Point) Scale(k int) {\n"
	const set = "Breakpoint 1 set at 0xPC for main.add() ./main.go:13\n"
	if !strings.HasPrefix(out, set+stop+"Breakpoint runtime-fatal-throw ") || !strings.HasSuffix(out, "Breakpoint 1 (enabled) at 0xPC for main.add() ./main.go:13 (1)\n") {
		t.Errorf("stdout (nothing after -x):\n%s", out)
	}
	wantErr := "Command failed: 1:3: expected operand, found 'EOF'\nCommand failed: no output path specified\n" +
		"Command failed: unrecognized option \"-y\"\nCommand failed: -o option specified with an output path\n"
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
	wantA := "(tinydbg) break main.add\n" + set + "(tinydbg) print 1+\n(tinydbg) continue\n" + stop +
		"(tinydbg) transcript -off\n(tinydbg) print 3\n3\n(tinydbg) transcript -t -x " + b + "\n"
	wantB := "(tinydbg) print 4\n4\n(tinydbg) transcript -off\n"
	for path, want := range map[string]string{a: wantA, b: wantB} {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if masked := hexRE.ReplaceAllString(string(got), "0xPC"); masked != want {
			t.Errorf("%s:\n%s\nwant:\n%s", path, masked, want)
		}
	}
}
