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
