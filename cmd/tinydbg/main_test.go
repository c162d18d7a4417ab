package main

import (
	"bytes"
	"errors"
	"fmt"
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

// tinydbgBin is the CLI under test, built once by TestMain.
var tinydbgBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tinydbg-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tinydbgBin = filepath.Join(dir, "tinydbg")
	if out, err := exec.Command("go", "build", "-o", tinydbgBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building tinydbg: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one tinydbg run printed and how it ended.
type result struct {
	stdout, stderr string
	code           int
}

// run starts tinydbg in dir with args, feeds it script on stdin and waits.
func run(t *testing.T, dir, script string, args ...string) result {
	t.Helper()
	cmd := exec.Command(tinydbgBin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(script)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("tinydbg %v timed out\nstdout:\n%s\nstderr:\n%s", args, out.String(), errb.String())
	}
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixtureDir is where a fixture's sources are; running there makes
// tinydbg print paths as ./main.go, as Delve does.
func fixtureDir(name string) string {
	return filepath.Join(fixture.Dir(), name)
}

// debugFixture runs script against the named fixture and fails on a
// non-zero exit.
func debugFixture(t *testing.T, name, script string, extra ...string) result {
	t.Helper()
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, name, fixture.Flavour{})
	r := run(t, fixtureDir(name), script, append(append([]string{"exec"}, extra...), bin)...)
	if r.code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r
}

var pcRE = regexp.MustCompile(`0x[0-9a-f]+`)

// lines returns the output's lines with every hex address replaced by
// 0xPC, since addresses change with the toolchain.
func lines(s string) []string {
	return strings.Split(pcRE.ReplaceAllString(strings.TrimRight(s, "\n"), "0xPC"), "\n")
}

// expectBlock checks that want appears as consecutive lines of got.
func expectBlock(t *testing.T, got string, want ...string) {
	t.Helper()
	gl := lines(got)
	for i := 0; i+len(want) <= len(gl); i++ {
		ok := true
		for j := range want {
			if gl[i+j] != want[j] {
				ok = false
				break
			}
		}
		if ok {
			return
		}
	}
	t.Errorf("output lacks the lines\n%s\n--- got:\n%s", strings.Join(want, "\n"), strings.Join(gl, "\n"))
}

func TestBreakContinueShowsBannerAndSource(t *testing.T) {
	r := debugFixture(t, "basic", "break main.add\ncontinue\nexit\n")
	expectBlock(t, r.stdout,
		"Breakpoint 1 set at 0xPC for main.add() ./main.go:13",
		"> [Breakpoint 1] main.add() ./main.go:13 (hits goroutine(1):1 total:1) (PC: 0xPC)",
		"     8:\ttype Point struct {",
		"     9:\t\tX, Y int",
		"    10:\t\tName string",
		"    11:\t}",
		"    12:\t",
		"=>  13:\tfunc add(a, b int) int {",
		"    14:\t\tsum := a + b",
		"    15:\t\treturn sum",
		"    16:\t}",
		"    17:\t",
		"    18:\tfunc (p *Point) Scale(k int) {",
	)
}

func TestPrintArgsLocals(t *testing.T) {
	// At a function breakpoint (the func line) the result slot is not
	// zeroed yet, so `next` onto the body before reading ~r0.
	r := debugFixture(t, "basic", "b main.add\nc\nnext\nargs\nprint a+b\nprint %x a*5\nwhatis a\nb main.describe\nc\nnext\nprint p\nlocals\nexit\n")
	expectBlock(t, r.stdout, "a = 3", "b = 4", "~r0 = 0", "7", "f", "int")
	expectBlock(t, r.stdout, "=>  23:\tfunc describe(p Point) string {")
	expectBlock(t, r.stdout, "> main.describe() ./main.go:24 (PC: 0xPC)")
	expectBlock(t, r.stdout, "=>  24:\t\ts := fmt.Sprintf(\"%s(%d,%d)\", p.Name, p.X, p.Y)")
	expectBlock(t, r.stdout, `main.Point {X: 6, Y: 8, Name: "pt"}`)
}

func TestNextStepStepout(t *testing.T) {
	r := debugFixture(t, "basic", "b main.add\nc\nnext\nnext\nstepout\nnext\nstep\nstack\nexit\n")
	expectBlock(t, r.stdout, "> main.add() ./main.go:14 (PC: 0xPC)")
	expectBlock(t, r.stdout, "> main.add() ./main.go:15 (PC: 0xPC)")
	expectBlock(t, r.stdout, "> main.main() ./main.go:32 (PC: 0xPC)", "Values returned:", "\t~r0: 7")
	expectBlock(t, r.stdout, "> main.main() ./main.go:33 (PC: 0xPC)")
	// step into a function stops where its breakpoint would: the func line.
	expectBlock(t, r.stdout, "> main.(*Point).Scale() ./main.go:18 (PC: 0xPC)", "    13:\tfunc add(a, b int) int {")
	expectBlock(t, r.stdout, "=>  18:\tfunc (p *Point) Scale(k int) {")
	expectBlock(t, r.stdout,
		"0  0xPC in main.(*Point).Scale",
		"   at ./main.go:18",
		"1  0xPC in main.main",
		"   at ./main.go:33",
	)
}

func TestStackAndFrames(t *testing.T) {
	r := debugFixture(t, "basic", "b main.add\nc\nbt\nframe 1 args\nup\nlocals\ndown\nexit\n")
	expectBlock(t, r.stdout,
		"0  0xPC in main.add",
		"   at ./main.go:13",
		"1  0xPC in main.main",
		"   at ./main.go:32",
	)
	expectBlock(t, r.stdout, "(no args)")
	if !regexp.MustCompile(`(?m)^Frame 1: \./main\.go:32 \(PC: [0-9a-f]+\)$`).MatchString(r.stdout) {
		t.Errorf("up did not select main.main at main.go:32:\n%s", r.stdout)
	}
	expectBlock(t, r.stdout, `p = main.Point {X: 3, Y: 4, Name: "pt"}`)
	if !regexp.MustCompile(`(?m)^Frame 0: \./main\.go:13 \(PC: [0-9a-f]+\)$`).MatchString(r.stdout) {
		t.Errorf("down did not return to main.add at main.go:13:\n%s", r.stdout)
	}
}

func TestGoroutinesList(t *testing.T) {
	r := debugFixture(t, "goroutines", "b main.work\nc\ngoroutines\ngoroutines -with userloc main.work\ngoroutine\nexit\n")
	gl := lines(r.stdout)
	var total, inWork, selected int
	for _, l := range gl {
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, " goroutines]") && total == 0 {
			fmt.Sscanf(l, "[%d goroutines]", &total)
		}
		if regexp.MustCompile(`^[ *] Goroutine \d+ - User: \./main\.go:8 main\.work \(0xPC\) \(thread \d+\)$`).MatchString(l) {
			inWork++
			if l[0] == '*' {
				selected++
			}
		}
	}
	// main may not have started every worker at the first hit, so the
	// count varies; the listing must agree with its own summary line and
	// include main.
	first := r.stdout[:strings.Index(r.stdout, " goroutines]")]
	listed := regexp.MustCompile(`(?m)^[ *] Goroutine \d+ - `).FindAllString(first, -1)
	if total < 2 || len(listed) != total || !regexp.MustCompile(`(?m)^[ *] Goroutine 1 - `).MatchString(first) {
		t.Errorf("goroutines listed %d lines, summary says %d, want main among them:\n%s", len(listed), total, r.stdout)
	}
	// Both listings show the goroutines in main.work; exactly one of them
	// is selected in each.
	if inWork < 2 || selected != 2 {
		t.Errorf("want goroutines stopped in main.work (one selected) in both listings, got %d lines, %d selected:\n%s", inWork, selected, r.stdout)
	}
	filtered := r.stdout[strings.Index(r.stdout, "goroutines]")+len("goroutines]"):]
	for _, l := range lines(filtered) {
		if strings.Contains(l, "Goroutine ") && strings.Contains(l, "User:") && !strings.Contains(l, "main.work") {
			t.Errorf("-with userloc main.work kept %q", l)
		}
	}
	expectBlock(t, r.stdout, "\tUser: ./main.go:8 main.work (0xPC)", "\tGo: ./main.go:20 main.main (0xPC)")
}

func TestUnknownCommandSuggestsClosest(t *testing.T) {
	r := debugFixture(t, "basic", "nxt\nbrea\nfrobnicate\nexit\n")
	for _, want := range []string{
		`Command failed: command "nxt" not available, did you mean "next"?`,
		`Command failed: command "brea" not available, did you mean "break"?`,
		`Command failed: command "frobnicate" not available, type 'help' for a list of commands`,
	} {
		if !strings.Contains(r.stderr, want+"\n") {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestBreakpointOnMissingFunctionNamesClosest(t *testing.T) {
	r := debugFixture(t, "basic", "break main.ad\nbreakpoints\nexit\n")
	if !strings.Contains(r.stderr, "Command failed:") || !strings.Contains(r.stderr, "main.add") {
		t.Errorf("stderr does not suggest main.add:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "Breakpoint 1") {
		t.Errorf("a breakpoint was set on a missing function:\n%s", r.stdout)
	}
}

func TestInitFile(t *testing.T) {
	init := filepath.Join(t.TempDir(), "init.txt")
	if err := os.WriteFile(init, []byte("# set up\nbreak main.add\ncontinue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := debugFixture(t, "basic", "print a\nexit\n", "--init", init)
	expectBlock(t, r.stdout, "=>  13:\tfunc add(a, b int) int {")
	expectBlock(t, r.stdout, "    18:\tfunc (p *Point) Scale(k int) {", "3")
}

func TestBreakpointsConditionClear(t *testing.T) {
	r := debugFixture(t, "basic", "b main.add\nb named main.describe\ncondition 1 a == 100\nbreakpoints\nc\nclear named\nbreakpoints\nc\nexit\n")
	expectBlock(t, r.stdout,
		"Breakpoint 1 (enabled) at 0xPC for main.add() ./main.go:13 (0)",
		"\tcond a == 100 (in kernel)",
		"Breakpoint named (enabled) at 0xPC for main.describe() ./main.go:23 (0)",
	)
	// The condition is false, so the first stop is describe.
	expectBlock(t, r.stdout, "> [named] main.describe() ./main.go:23 (hits goroutine(1):1 total:1) (PC: 0xPC)")
	expectBlock(t, r.stdout, "Breakpoint named cleared at 0xPC for main.describe() ./main.go:23")
	if !strings.Contains(r.stderr, "has exited with status 0") {
		t.Errorf("the program did not run to its end:\n%s", r.stderr)
	}
}
