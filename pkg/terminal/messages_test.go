package terminal_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestMessagesLikeDelve runs, on delvemsgs, commands whose errors Delve
// 1.27.2 words in its own way, and requires its words: a field through a
// nil pointer names the pointer as written, any bad index is "index out of
// bounds", an integer division by zero is Go's runtime error, a function
// name matching several functions lists them instead of picking one, a
// duplicate breakpoint names its place (not an id), and a condition that
// does not parse is refused at once, leaving the breakpoint as it was.
func TestMessagesLikeDelve(t *testing.T) {
	script := `break main.go:51
continue
print c.NilPtr.V
print *c.NilPtr
print c.Xs[idx]
print c.Xs[idx:]
print c.Xs[-1]
print 1/zero
print 7 % zero
break compute
break main.go:51
condition 1 x ==
breakpoints
exit
`
	out, errOut := runREPL(t, "delvemsgs", script)
	m := regexp.MustCompile(`(?m)^Breakpoint 1 set at 0x([0-9a-f]+) for main.main\(\) ./main.go:51$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no breakpoint 1 in:\n%s", out)
	}
	want := fmt.Sprintf(`Command failed: c.NilPtr is nil
Command failed: nil pointer dereference
Command failed: index out of bounds
Command failed: index out of bounds
Command failed: index out of bounds
Command failed: runtime error: integer divide by zero
Command failed: runtime error: integer divide by zero
Command failed: Location "compute" ambiguous: main.(*Calc).compute, main.compute, runtime.metricReader.compute…
Command failed: Breakpoint exists at %s:51 at %s
Command failed: 1:5: expected operand, found 'EOF'
`, fixture.Source("delvemsgs"), m[1])
	if errOut != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
	}
	list := out[strings.LastIndex(out, "Breakpoint unrecovered-panic"):]
	wantList := fmt.Sprintf("Breakpoint 1 (enabled) at 0x%s for main.main() ./main.go:51 (1)\n", m[1])
	if !strings.HasSuffix(list, wantList) {
		t.Errorf("breakpoints end:\n%s\nwant suffix:\n%s", list, wantList)
	}
}

// TestPrintChanListsWaiters checks that print of a channel is followed, as
// in Delve, by the goroutines blocked on it: the two senders of delvemsgs.
func TestPrintChanListsWaiters(t *testing.T) {
	out, errOut := runREPL(t, "delvemsgs", "break main.go:51\ncontinue\nprint ch\nexit\n")
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
	i := strings.Index(out, "chan int {")
	if i < 0 {
		t.Fatalf("no channel in:\n%s", out)
	}
	tail := out[i:]
	waiter := `  Goroutine \d+ - User: \./main\.go:47 main\.main\.func1 \(0x[0-9a-f]+\) \[chan send\]\n`
	re := regexp.MustCompile(`\},\}\n\nGoroutines waiting on this channel:\n` + waiter + waiter + `$`)
	if !re.MatchString(tail) {
		t.Errorf("print ch:\n%s\nwant it to end with two senders (%s)", tail, re)
	}
}

// TestNextInterruptedAsks checks Delve's terminal behaviour when another
// goroutine hits a breakpoint during next: the next stays in progress and
// the user is asked; c continues it (an unknown answer asks again), f
// finishes it skipping breakpoints, s cancels it there. svcgoroutines'
// spin goroutine calls main.tick while main sleeps on line 56; the hit
// condition lets main.tick stop once.
func TestNextInterruptedAsks(t *testing.T) {
	const ask = "[c] continue [s] stop here and cancel next, [f] finish next skipping all breakpoints? \n"
	hit := func(n int) string {
		return fmt.Sprintf(`> \[Breakpoint 2\] main\.tick\(\) \./main\.go:38 \(hits goroutine\(\d+\):%d total:%d\) \(PC: 0x[0-9a-f]+\)\n\tbreakpoint hit during next\n`, n, n)
	}
	listing := func(line int, src string) string {
		return fmt.Sprintf(`(?:    \d+:\t.*\n)*=>  %d:\t%s\n(?:    \d+:\t.*\n)*`, line, regexp.QuoteMeta(src))
	}
	q := regexp.QuoteMeta(ask)
	cases := []struct {
		name, cond, next, answers, after string
		want                             string
		wantErr                          string
	}{
		// One interrupting hit each: whether spin calls tick again before
		// main's sleep (whose time ran on while the program was stopped)
		// ends is up to the scheduler.
		{"continue", "== 1", "next", "x\nc\n", "print count\n",
			hit(1) + q + q + "continuing...\n" +
				`> main\.main\(\) \./main\.go:57 \(PC: 0x[0-9a-f]+\)\n` + listing(57, "\tready()") + "3\n$", ""},
		{"finish", "== 1", "next", "f\n", "print count\n",
			hit(1) + q + "continuing...\n" +
				`> main\.main\(\) \./main\.go:57 \(PC: 0x[0-9a-f]+\)\n` + listing(57, "\tready()") + "3\n$", ""},
		{"stop", "== 1", "next", "s\n", "continue\n",
			hit(1) + q + listing(38, "func tick(n int) int { return n + 1 }") + "$", `^Process \d+ has exited with status 0\n$`},
		// The first of two nexts is interrupted, continued, and the count
		// goes on from where it ended.
		{"count", "== 1", "next 2", "c\n", "",
			hit(1) + q + "continuing...\n" + `> main\.main\(\) \./main\.go:57 \(PC: 0x[0-9a-f]+\)\n` + listing(57, "\tready()") +
				`> main\.main\(\) \./main\.go:58 \(PC: 0x[0-9a-f]+\)\n` + listing(58, "\tstop <- true") + "$", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			script := "break main.go:56\ncontinue\nbreak main.tick\ncondition -hitcount 2 " + c.cond + "\n" + c.next + "\n" + c.answers + c.after + "exit\n"
			out, errOut := runREPL(t, "svcgoroutines", script)
			i := strings.Index(out, "> [Breakpoint 2]")
			if i < 0 {
				t.Fatalf("main.tick never stopped the next:\n%s", out)
			}
			if !regexp.MustCompile("^" + c.want).MatchString(out[i:]) {
				t.Errorf("after the interrupting breakpoint:\n%s\nwant (regexp):\n%s", out[i:], c.want)
			}
			if c.wantErr == "" && errOut != "" || c.wantErr != "" && !regexp.MustCompile(c.wantErr).MatchString(errOut) {
				t.Errorf("stderr %q, want %q", errOut, c.wantErr)
			}
		})
	}
}
