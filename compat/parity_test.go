package compat

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// session is one script run through both debuggers on one fixture.
type paritySession struct {
	fixture string
	args    []string // the program's arguments
	script  []string
	// repl: tinydbg's own terminal (`tinydbg connect`) on tinydbg's server
	// against `dlv connect` on dlv's; otherwise Delve's terminal on both
	// servers, which compares what the servers answer.
	repl bool
}

// runBoth runs s through tinydbg and through dlv and returns the two
// transcripts, masked alike: source path, addresses, goroutine ids, and
// tinydbg's prompt, which is "(tinydbg) " where Delve's is "(dlv) ".
func runBoth(t *testing.T, s paritySession) (got, delve []string) {
	t.Helper()
	testenv.RequirePtrace(t)
	if dlvErr != nil {
		testenv.SkipOrFail(t, "no dlv %s: %v", dlvVersion, dlvErr)
	}
	bin := fixture.Build(t, s.fixture, fixture.Flavour{})
	dir := filepath.Join(fixture.Dir(), s.fixture)
	mask := func(ls []string) []string {
		var out []string
		for _, l := range ls {
			l = strings.ReplaceAll(l, "(tinydbg) ", "(dlv) ")
			l = strings.ReplaceAll(l, dir+"/", "SRC/")
			l = strings.ReplaceAll(l, bin, "BIN")
			l = goroutineRE.ReplaceAllString(l, "goroutine(G)")
			out = append(out, hexRE.ReplaceAllString(l, "0xADDR"))
		}
		return out
	}
	server := func(prog string) *headless {
		argv := []string{prog, "exec", "--headless", "--listen=127.0.0.1:0", "--api-version=2", bin}
		if len(s.args) > 0 {
			argv = append(append(argv, "--"), s.args...)
		}
		return startHeadless(t, argv...)
	}
	in := strings.Join(s.script, "\n") + "\n"
	tiny := server(tinydbgBin)
	client := dlvBin
	if s.repl {
		client = tinydbgBin
	}
	out, err := run(t, in, 60e9, client, "connect", tiny.addr)
	if err != nil {
		t.Fatalf("connect to tinydbg: %v\n%s", err, out)
	}
	got = mask(normalize(string(out)))
	tiny.wait(t, "tinydbg")
	ref := server(dlvBin)
	out, err = run(t, in, 60e9, dlvBin, "connect", ref.addr)
	if err != nil {
		t.Fatalf("connect to dlv: %v\n%s", err, out)
	}
	delve = mask(normalize(string(out)))
	ref.wait(t, "dlv")
	if s.repl {
		got, delve = replMask(got, delve)
	}
	return got, delve
}

// replMask hides the two differences of tinydbg's terminal that every
// session shows. Reading from a pipe, it prints neither Delve's greeting
// nor prompts (liner echoes them whatever stdin is; tinydbg's own tests
// read its answers without them); and quitting a `connect` it asks whether
// to kill the headless instance, where Delve asks only of a server started
// with --accept-multiclient (the other kind exits with its only client
// anyway, so the answer changes nothing).
func replMask(got, delve []string) ([]string, []string) {
	var g, d []string
	for _, l := range got {
		if !strings.HasPrefix(l, "Would you like to kill the headless instance?") &&
			!strings.HasPrefix(l, "Remote process has exited. Would you like to kill the headless instance?") {
			g = append(g, l)
		}
	}
	for _, l := range delve {
		if l == "Type 'help' for list of commands." {
			continue
		}
		for strings.HasPrefix(l, "(dlv) ") {
			l = strings.TrimPrefix(l, "(dlv) ")
		}
		d = append(d, l)
	}
	return g, d
}

// requireLines fails for each of want that no line of got contains: the
// transcripts cannot be right by merely agreeing if both went wrong alike.
func requireLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !contains(got, w) {
			t.Errorf("tinydbg transcript lacks %q", w)
		}
	}
}

// dropLines removes from ls the lines re matches; used, with a comment
// each time, for an explained difference.
func dropLines(ls []string, re *regexp.Regexp) []string {
	var out []string
	for _, l := range ls {
		if !re.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

// explain replaces, in delve, each line that delveRE matches where got
// has tinyLine at the same place, by tinyLine: one explained difference
// (README's "Where tinydbg differs from Delve"), which must occur.
func explain(t *testing.T, got, delve []string, tinyLine string, delveRE *regexp.Regexp) {
	t.Helper()
	n := 0
	for k := range min(len(got), len(delve)) {
		if got[k] == tinyLine && delveRE.MatchString(delve[k]) {
			delve[k] = got[k]
			n++
		}
	}
	if n == 0 {
		t.Errorf("the explained difference (tinydbg %q, delve %s) did not occur", tinyLine, delveRE)
	}
}

// terminals runs f once with Delve's terminal on both servers and once
// with each debugger's own terminal.
func terminals(t *testing.T, f func(t *testing.T, repl bool)) {
	t.Run("delve-terminal", func(t *testing.T) { f(t, false) })
	t.Run("own-terminal", func(t *testing.T) { f(t, true) })
}

// TestParityDeferred: stack -defer and deferred N args/locals/print on
// _fixtures/deferred, including the range-over-func loop's defers.
func TestParityDeferred(t *testing.T) {
	terminals(t, func(t *testing.T, repl bool) {
		got, delve := runBoth(t, paritySession{fixture: "deferred", repl: repl, script: []string{
			"break main.stop",
			"continue",
			"stack -defer",
			"up",
			"deferred 1 args",
			"deferred 2 locals",
			"deferred 3 args",
			"deferred 2 print name",
			"deferred 4 locals",
			"continue",
			"stack -defer 2",
			"quit",
		}})
		requireLines(t, got,
			"       defer 2: 0xADDR in main.work.func1",
			"                deferred by main.work at SRC/main.go:22",
			"=>  28:\t\treturn stop(count)", "(no args)",
			"Command failed: Frame 1 only has 3 deferred calls")
		p := "^(\\(dlv\\) )?"
		if repl {
			p = "^"
		}
		// The closure's captured variables: tinydbg reads them from the
		// closure its defer record holds; Delve reads the stopped frame's
		// DX and stack, which belong to main.stop's caller by then.
		for _, d := range []struct{ tiny, delve string }{
			{"count = 40", `count = \(unreadable .*\)$`},
			{"r = 0", `r = \(unreadable .*\)$`},
			{`name = "cleanup"`, `name = ".*more"$`},
			{`"cleanup"`, `".*more"$`},
		} {
			tiny := d.tiny
			if !repl && d.tiny != "r = 0" && d.tiny != `name = "cleanup"` {
				tiny = "(dlv) " + tiny
			}
			explain(t, got, delve, tiny, regexp.MustCompile(p+d.delve))
		}
		// A range-over-func loop's defers hang off a record of ranged's
		// frame; tinydbg names the deferring function and line, Delve
		// prints "??? at :0".
		explain(t, got, delve, "                deferred by main.ranged at SRC/ranged.go:17",
			regexp.MustCompile(`^ +deferred by \?\?\? at :0$`))
		sameTranscripts(t, got, delve)
	})
}

// TestParityJumpSi: jump to a line and to a function's entry, and
// step-instruction, which shows the disassembly around the PC.
func TestParityJumpSi(t *testing.T) {
	terminals(t, func(t *testing.T, repl bool) {
		got, delve := runBoth(t, paritySession{fixture: "basic", repl: repl, script: []string{
			"break main.go:33",
			"continue",
			"jump 35",
			"next",
			"print counter",
			"jump main.add",
			"si",
			"si",
			"quit",
		}})
		requireLines(t, got, "=>  35:\t\tcounter += n", "14",
			"Command failed: can not set the next execution point outside of the current function",
			"=>\tmain.go:36\t0xADDR\t440f117910\t\tmovups xmmword ptr [rcx+0xADDR], xmm15")
		sameTranscripts(t, got, delve)
	})
}

// Process ids are masked by where they stand, not by their width: a fresh
// CI container hands out three-digit pids, which a width rule lets through.
// target list pads its pid column to the widest pid, so the padding after
// a pid goes with it (a pid namespace's parent and child differ in width).
var (
	pidInTextRE = regexp.MustCompile(`(\bfrom |\bto |\bProcess |\()\d+\b`)
	pidInListRE = regexp.MustCompile(`^((?:\(dlv\) )*[* ] +)\d+ +(BIN)`)
)

func maskPids(s string) string {
	s = pidInTextRE.ReplaceAllString(s, "${1}PID")
	return pidInListRE.ReplaceAllString(s, "${1}PID  $2")
}

// TestParityFollowExec: target follow-exec -on, then a breakpoint that
// only the child reaches. Up to the child's exec the transcripts are
// equal: both servers send Delve's ProcessSpawned event, which both
// terminals print as "Spawned new process". From there dlv 1.27.2 is
// wrong and tinydbg's answer is required instead: dlv never arms the
// breakpoint in the child (its `breakpoints` shows it "(suspended)"
// after the run), so the child prints its result without stopping and
// both processes run to their end; tinydbg stops in the child at
// main.childWork, which the program does call there, and both terminals
// announce it as Delve's does a stop in another process ("Switch target
// process"). dlv's rest is required as it is, so that a dlv that arms
// the breakpoint fails here rather than passing unnoticed.
func TestParityFollowExec(t *testing.T) {
	terminals(t, func(t *testing.T, repl bool) {
		got, delve := runBoth(t, paritySession{fixture: "execchild", repl: repl, script: []string{
			"target follow-exec -on",
			"target follow-exec",
			"break main.childWork",
			"continue",
			"target list",
			"continue",
			"target list",
			"quit",
		}})
		samePids(t, got)
		for _, ls := range [][]string{got, delve} {
			for k := range ls {
				ls[k] = maskPids(ls[k])
			}
		}
		p := "(dlv) "
		if repl {
			p = ""
		}
		spawned := slices.Index(got, p+"Spawned new process 'BIN child' (PID)") + 1
		if spawned == 0 {
			t.Fatalf("no spawned child in tinydbg's transcript:\n%s", strings.Join(got, "\n"))
		}
		sameTranscripts(t, got[:spawned], delve[:min(spawned, len(delve))])
		rest := []string{
			"Switch target process from PID to PID (BIN child)",
			"> [Breakpoint 1] main.childWork() SRC/main.go:11 (hits goroutine(G):1 total:1) (PC: 0xADDR)",
			"     6:\t\t\"fmt\"",
			"     7:\t\t\"os\"",
			"     8:\t\t\"os/exec\"",
			"     9:\t)",
			"    10:\t",
			"=>  11:\tfunc childWork(n int) int {",
			"    12:\t\treturn n * 3",
			"    13:\t}",
			"    14:\t",
			"    15:\tfunc parentDone(code int) {",
			"    16:\t\tfmt.Println(\"parent: child exited with\", code)",
			p + "    PID  BIN", "*   PID  BIN child",
			p + "Process PID has exited with status 0", p + "Process PID has exited with status 0",
		}
		delveRest := []string{"Process PID has exited with status 0", "(dlv) (dlv) Process PID has exited with status 0", "(dlv) (dlv) "}
		if repl {
			// tinydbg's terminal ends with the two answers to its
			// question about the headless instance (see replMask).
			rest = append(rest, "", "")
			delveRest = []string{"Process PID has exited with status 0", "Process PID has exited with status 0", ""}
		} else {
			rest = append(rest, "(dlv) ")
		}
		sameTranscripts(t, got[spawned:], rest)
		sameTranscripts(t, delve[min(spawned, len(delve)):], delveRest)
	})
}

// samePids checks, before pids are masked, that tinydbg's transcript
// names one child throughout: the spawned process is the one the stop
// switches to and target list marks, and the switch is from the other
// process target list shows, the parent.
func samePids(t *testing.T, got []string) {
	t.Helper()
	text := strings.Join(got, "\n")
	m := regexp.MustCompile(`Spawned new process '.* child' \((\d+)\)\n(?:\(dlv\) )*Switch target process from (\d+) to (\d+) \(`).FindStringSubmatch(text)
	l := regexp.MustCompile(`(?m)^(?:\(dlv\) )* +(\d+) +\S+\n\* +(\d+) +\S+ child$`).FindStringSubmatch(text)
	if m == nil || l == nil || m[1] != m[3] || m[3] != l[2] || m[2] != l[1] || m[1] == m[2] {
		t.Errorf("spawned/switch %q and target list %q do not name the same parent and child:\n%s", m, l, text)
	}
}

// TestParityLibrariesPackages: libraries of a cgo program (dynamically
// linked) and packages, all and filtered.
func TestParityLibrariesPackages(t *testing.T) {
	terminals(t, func(t *testing.T, repl bool) {
		got, delve := runBoth(t, paritySession{fixture: "cgocall", repl: repl, script: []string{
			"break main.main",
			"continue",
			"libraries",
			"packages",
			"packages runtime/",
			"quit",
		}})
		requireLines(t, got, "libc.so.6", "runtime/cgo")
		sameTranscripts(t, got, delve)
	})
}

// TestParityConfigTranscript: config listing, option changes
// (max-string-len, source-list-line-count, an alias) and their effect,
// and transcript, each debugger's own terminal. Delve lists
// debug-info-directories, which tinydbg does not have (it reads no
// separate debug files).
func TestParityConfigTranscript(t *testing.T) {
	dir := t.TempDir()
	got, delve := runBoth(t, paritySession{fixture: "basic", repl: true, script: []string{
		"config -list",
		"config max-string-len 1",
		"config source-list-line-count 1",
		"config alias print pp",
		"break main.add",
		"continue",
		"transcript " + filepath.Join(dir, "t.txt"),
		"up",
		"pp p",
		"transcript -off",
		"pp p.Name",
		"config -list",
		"quit",
	}})
	delve = dropLines(delve, regexp.MustCompile(`^debug-info-directories +\[`))
	requireLines(t, got, "max-string-len            1", "source-list-line-count    1",
		"aliases                   map[print:[pp]]", `main.Point {X: 3, Y: 4, Name: "p...+1 more"}`, `"p...+1 more"`)
	sameTranscripts(t, got, delve)
	// Both wrote to the same file, tinydbg first: Delve's transcript
	// appends unless given -x. Each half holds what that session printed
	// between transcript and transcript -off, commands after the prompt
	// (tinydbg's own, which the file shows although the pipe did not).
	b, err := os.ReadFile(filepath.Join(dir, "t.txt"))
	if err != nil {
		t.Fatal(err)
	}
	text := hexRE.ReplaceAllString(strings.ReplaceAll(strings.ReplaceAll(string(b), "(tinydbg) ", "(dlv) "), filepath.Join(fixture.Dir(), "basic")+"/", "SRC/"), "0xADDR")
	half := len(text) / 2
	if text[:half] != text[half:] || !strings.Contains(text[:half], `main.Point {X: 3, Y: 4, Name: "p...+1 more"}`) {
		t.Errorf("transcript file is not two equal halves with the print:\n%s", text)
	}
}

// TestParityWatchOwnTerminal: watch through each debugger's own terminal
// (compat/watch_test.go has Delve's terminal on both servers).
func TestParityWatchOwnTerminal(t *testing.T) {
	got, delve := runBoth(t, paritySession{fixture: "watch", repl: true, script: []string{
		"break main.loop",
		"continue",
		"watch -w counter",
		"watch counter",
		"continue", "continue",
		"clear counter",
		"watch -w local",
		"continue", "continue", "continue", "continue",
		"quit",
	}})
	// tinydbg's terminal also prints the old and new values of a
	// watchpoint hit, which Delve's leaves out.
	requireLines(t, got, "\told value: 0", "\tnew value: 1", "\told value: 1", "\tnew value: 2")
	got = dropLines(got, regexp.MustCompile("^\t(old|new) value: "))
	requireLines(t, got, "> watchpoint on [counter] main.loop() SRC/main.go:22 (hits goroutine(G):2 total:2) (PC: 0xADDR)",
		"Watchpoint local went out of scope and was cleared")
	sameTranscripts(t, got, delve)
}
