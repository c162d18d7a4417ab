package native

import (
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc"
)

// TestFollowExec: with follow-exec on, the child the fixture forks and
// execs is reported with its command line and left stopped on the first
// instruction of the new program; attached as a process of its own it
// runs to its end, printing its output, and the parent then finishes. A
// child not wanted runs free.
func TestFollowExec(t *testing.T) {
	testenv.RequirePtrace(t)
	exe := fixture.Build(t, "execchild", fixture.Flavour{})
	entry, _ := elfEntry(t, exe)
	for _, want := range []bool{true, false} {
		r, w := pipe(t)
		p := launch(t, LaunchConfig{Path: exe, Stdout: w, Stderr: w})
		execd := make(chan [2]string, 1)
		err := p.FollowExec(true, func(cmdline string) bool { return want && strings.HasSuffix(cmdline, " child") },
			func(pid int, cmdline string, stopped bool) {
				execd <- [2]string{cmdlineOf(pid), cmdline}
				if stopped != want {
					t.Errorf("want %v: child reported stopped %v", want, stopped)
				}
				if !stopped {
					return
				}
				// Attaching is another ptrace thread's job.
				go func() {
					c, err := Attach(pid)
					if err != nil {
						t.Errorf("attaching the child: %v", err)
						return
					}
					if th, ok := c.Thread(pid); !ok {
						t.Errorf("child %d has no thread %d", pid, pid)
					} else if regs, err := th.Registers(); err != nil || regs.PC() != entry {
						t.Errorf("child stopped at %#x (%v), want its entry %#x", regs.PC(), err, entry)
					}
					ev, err := c.Continue()
					if err != nil || ev.Kind != proc.StopKindExited || ev.ExitCode != 0 {
						t.Errorf("child: %+v, %v", ev, err)
					}
				}()
			})
		if err != nil {
			t.Fatal(err)
		}
		ev := continueTo(t, p, proc.StopKindExited)
		w.Close()
		out, _ := bufioReadAll(r)
		if ev.ExitCode != 0 || out != "child: 42\nparent: child exited with 0\n" {
			t.Errorf("want %v: parent exit %d, output %q", want, ev.ExitCode, out)
		}
		// Both children are reported; /proc still has the one left
		// stopped, and had the other while it was being reported.
		select {
		case c := <-execd:
			if c[1] != exe+" child" || (want && c[0] != exe+" child") {
				t.Errorf("want %v: exec'd child %q", want, c)
			}
		default:
			t.Errorf("want %v: the child's exec was not reported", want)
		}
	}
}
