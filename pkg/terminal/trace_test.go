package terminal_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/terminal"
	"github.com/tinydbg/tinydbg/service/debugger"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// runREPL runs script in the REPL against a fixture, through the path
// `tinydbg exec` takes (terminal, JSON-RPC over a pipe, debugger, core),
// from the fixture's directory so paths print as ./main.go. It returns
// the REPL's stdout and stderr; the program's own output is discarded.
func runREPL(t *testing.T, name, script string) (string, string) {
	t.Helper()
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, name, fixture.Flavour{})
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(filepath.Join(fixture.Dir(), name)); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	// The terminal caches its working directory under $PWD: a REPL run on
	// another fixture must not see the previous one's.
	t.Setenv("PWD", filepath.Join(fixture.Dir(), name))
	c := startSession(t, bin)
	var out, errOut strings.Builder
	term := terminal.New(c, terminal.Config{
		Stdin: strings.NewReader(script), Stdout: &out, Stderr: &errOut, HistoryFile: "-"})
	if _, err := term.Run(); err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String()
}

// startSession launches bin under an in-process debugger and JSON-RPC
// server, joined to the returned client by a pipe as in `tinydbg exec`;
// the program's own output is discarded. Everything stops at cleanup.
func startSession(tb testing.TB, bin string) *rpc2.Client {
	tb.Helper()
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { devnull.Close() })
	d, err := debugger.New(debugger.Config{Path: bin, Stdout: devnull, Stderr: devnull})
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

var hexRE = regexp.MustCompile(`0x[0-9a-f]+`)

func TestTraceFunctionEntryAndReturn(t *testing.T) {
	out, errOut := runREPL(t, "basic", "trace main.add\ncontinue\nbreakpoints\nexit\n")
	want := `Tracepoint 1 set at 0xPC for main.add() ./main.go:13
> goroutine(1): main.add(3, 4)
>> goroutine(1): main.add => (7)
` + defaultBps + `Tracepoint 1 (enabled) at 0xPC for main.add() ./main.go:13 (1)
	args
Breakpoint 2 (enabled) at 0xPC for main.add() ./main.go:15 (1)
	args
`
	if got := hexRE.ReplaceAllString(out, "0xPC"); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	if !regexp.MustCompile(`^Process \d+ has exited with status 0\n$`).MatchString(errOut) {
		t.Errorf("stderr: %q", errOut)
	}
}

// TestTraceWithOnCondAndBreakpoint checks that "on" and "condition" apply
// to a tracepoint, that it never stops the program, and that a real
// breakpoint still does.
func TestTraceWithOnCondAndBreakpoint(t *testing.T) {
	script := "t tp main.add\non tp print a+b\ncond tp a == 3\nbreak main.go:33\ncontinue\nexit\n"
	out, errOut := runREPL(t, "basic", script)
	want := `Tracepoint tp set at 0xPC for main.add() ./main.go:13
Breakpoint 3 set at 0xPC for main.main() ./main.go:33
tracepoint tp stops the program to evaluate: a+b: only variables and field selections are captured in the kernel
> goroutine(1): [tp] main.add(3, 4)

	a+b: 7
>> goroutine(1): main.add => (7)
> [Breakpoint 3] main.main() ./main.go:33 (hits goroutine(1):1 total:1) (PC: 0xPC)
`
	got := hexRE.ReplaceAllString(out, "0xPC")
	if !strings.HasPrefix(got, want) {
		t.Errorf("stdout:\n%s\nwant prefix:\n%s", got, want)
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
	// A false condition silences the entry, evaluated in the kernel (no
	// line says it stops); the returns still report.
	out, _ = runREPL(t, "basic", "t tp main.add\ncond tp a == 4\ncontinue\nexit\n")
	want = "Tracepoint tp set at 0xPC for main.add() ./main.go:13\n>> goroutine(1): main.add => (7)\n"
	if got := hexRE.ReplaceAllString(out, "0xPC"); got != want {
		t.Errorf("with a false condition:\n%s\nwant:\n%s", got, want)
	}
}

// TestTraceLineHasNoReturns checks that a tracepoint on a line traces
// only that line, as Delve does.
func TestTraceLineHasNoReturns(t *testing.T) {
	out, _ := runREPL(t, "basic", "trace main.go:15\ncontinue\nbreakpoints\nexit\n")
	want := `Tracepoint 1 set at 0xPC for main.add() ./main.go:15
> goroutine(1): main.add(3, 4)
` + defaultBps + `Tracepoint 1 (enabled) at 0xPC for main.add() ./main.go:15 (1)
	args
`
	if got := hexRE.ReplaceAllString(out, "0xPC"); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
}

// TestTraceEveryGoroutine traces 8 goroutines calling main.work(i) 50
// times each: every one of the 400 calls and returns must be reported
// once, with the goroutine that made it and its argument and result.
func TestTraceEveryGoroutine(t *testing.T) {
	out, errOut := runREPL(t, "goroutines", "trace main.work\ncontinue\nexit\n")
	if !strings.Contains(errOut, "has exited with status 0") {
		t.Fatalf("stderr: %q", errOut)
	}
	entry := regexp.MustCompile(`^> goroutine\((\d+)\): main\.work\((\d+)\)$`)
	ret := regexp.MustCompile(`^>> goroutine\((\d+)\): main\.work => \((\d+)\)$`)
	argOf := map[string]string{} // goroutine id -> its argument
	entries := map[string]int{}  // "g arg" -> count
	returns := map[string]int{}  // "g result" -> count
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "Tracepoint 1 set at ") {
		t.Fatalf("first line %q", lines[0])
	}
	for _, l := range lines[1:] {
		if m := entry.FindStringSubmatch(l); m != nil {
			if a, ok := argOf[m[1]]; ok && a != m[2] {
				t.Errorf("goroutine %s called work(%s) and work(%s)", m[1], a, m[2])
			}
			argOf[m[1]] = m[2]
			entries[m[1]+" "+m[2]]++
			continue
		}
		if m := ret.FindStringSubmatch(l); m != nil {
			returns[m[1]+" "+m[2]]++
			continue
		}
		t.Errorf("unexpected line %q", l)
	}
	if len(argOf) != 8 {
		t.Fatalf("%d goroutines traced, want 8: %v", len(argOf), argOf)
	}
	var gs []string
	for g, a := range argOf {
		if entries[g+" "+a] != 50 {
			t.Errorf("goroutine %s: %d entries of work(%s), want 50", g, entries[g+" "+a], a)
		}
		var arg int
		fmt.Sscan(a, &arg)
		if r := fmt.Sprintf("%s %d", g, arg*10+3); returns[r] != 50 {
			t.Errorf("goroutine %s: %d returns of %d, want 50 (returns %v)", g, returns[r], arg*10+3, returns)
		}
		gs = append(gs, a)
	}
	sort.Strings(gs)
	if strings.Join(gs, ",") != "0,1,2,3,4,5,6,7" {
		t.Errorf("arguments traced: %v", gs)
	}
}
