package terminal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/terminal"
)

// session is a terminal on a fixture, driven one command at a time.
type session struct {
	t    *testing.T
	term *terminal.Term
	out  *strings.Builder
}

func newSession(t *testing.T, name string) *session {
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
	t.Cleanup(func() { os.Chdir(wd) })
	t.Setenv("PWD", filepath.Join(fixture.Dir(), name))
	out := &strings.Builder{}
	term := terminal.New(startSession(t, bin), terminal.Config{Stdin: strings.NewReader(""), Stdout: out, Stderr: out, HistoryFile: "-"})
	return &session{t: t, term: term, out: out}
}

// do runs one command and returns what it printed, its error appended.
func (s *session) do(line string) string {
	s.t.Helper()
	s.out.Reset()
	err := s.term.Call(line)
	got := hexRE.ReplaceAllString(s.out.String(), "0xPC")
	if err != nil {
		got += "error: " + err.Error() + "\n"
	}
	return got
}

func (s *session) want(line, want string) {
	s.t.Helper()
	if got := s.do(line); got != want {
		s.t.Errorf("%s:\n%s\nwant:\n%s", line, got, want)
	}
}

// targetRE reads target list; its pid column is as wide as the widest pid.
var targetRE = regexp.MustCompile(`(?m)^(\*?) +([0-9]+) +(.*)$`)

// TestFollowExec: with target follow-exec -on, the child execchild forks
// and execs is debugged too: the breakpoints set before apply to it, its
// stop selects it (target list marks it), one set while the child is
// selected applies to the parent too, continue runs both until the parent
// stops there after the child ended, and target switch moves between
// them. target list and follow-exec print as Delve does, and so does
// the stop in the child: the server's event announces the child (its
// pid), and the stop names the process it switched from.
func TestFollowExec(t *testing.T) {
	bin := fixture.Build(t, "execchild", fixture.Flavour{})
	s := newSession(t, "execchild")
	s.want("config source-list-line-count 0", "")
	s.want("target follow-exec", "Follow exec is disabled.\n")
	s.want("target follow-exec -on", "")
	s.want("target follow-exec", "Follow exec is enabled.\n")
	s.want("break main.childWork", "Breakpoint 1 set at 0xPC for main.childWork() ./main.go:11\n")
	stop := s.do("continue")
	s.want("break main.parentDone", "Breakpoint 2 set at 0xPC for main.parentDone() ./main.go:15\n")
	list := targetRE.FindAllStringSubmatch(s.do("target list"), -1)
	if len(list) != 2 || list[0][1] != "" || list[0][3] != bin || list[1][1] != "*" || list[1][3] != bin+" child" {
		t.Fatalf("target list: %q", list)
	}
	parent, child := list[0][2], list[1][2]
	if want := fmt.Sprintf("Spawned new process '%s child' (%s)\n", bin, child) +
		fmt.Sprintf("Switch target process from %s to %s (%s child)\n", parent, child, bin) +
		"> [Breakpoint 1] main.childWork() ./main.go:11 (hits goroutine(1):1 total:1) (PC: 0xPC)\n" +
		"=>  11:\tfunc childWork(n int) int {\n"; stop != want {
		t.Errorf("continue:\n%s\nwant:\n%s", stop, want)
	}
	s.want("args ^n$", "n = 14\n")
	s.want("print len(os.Args)", "2\n")
	s.want("target switch "+parent, "")
	// Hit counts are each target's own: the child hit 1, the parent not.
	if got := s.do("breakpoints"); !strings.HasSuffix(got, "Breakpoint 1 (enabled) at 0xPC for main.childWork() ./main.go:11 (0)\n"+
		"Breakpoint 2 (enabled) at 0xPC for main.parentDone() ./main.go:15 (0)\n") {
		t.Errorf("the parent's breakpoints:\n%s", got)
	}
	if got := targetRE.FindAllStringSubmatch(s.do("target list"), -1); len(got) != 2 || [3]string(got[0][1:]) != [3]string{"*", parent, bin} ||
		[3]string(got[1][1:]) != [3]string{"", child, bin + " child"} {
		t.Errorf("target list after switching to the parent: %q", got)
	}
	s.want("print len(os.Args)", "1\n") // the parent's variables
	s.want("target switch "+child, "")
	s.want("print n", "14\n")
	// As in Delve, the switch is from the process of the last stop shown.
	s.want("continue", fmt.Sprintf("Switch target process from %s to %s (%s)\n", child, parent, bin)+
		"> [Breakpoint 2] main.parentDone() ./main.go:15 (hits goroutine(1):1 total:1) (PC: 0xPC)\n"+
		"=>  15:\tfunc parentDone(code int) {\n")
	s.want("target list", "*   "+parent+"  "+bin+"\n")
	s.want("print code", "0\n")
	s.want("target switch "+child, "error: could not find target "+child+"\n")
	s.want("target follow-exec -off x", "error: too many arguments\n")
	s.want("target follow-exec -on [", "error: follow-exec regex: error parsing regexp: missing closing ]: `[`\n")
	s.want("target", "error: not enough arguments for 'target'\n")
	s.want("target frob", "error: unknown command 'target frob'\n")
	s.want("continue", "error: Process "+parent+" has exited with status 0\n")
}

// TestFollowExecRegex: a child whose command line does not match the
// regular expression runs undebugged, though announced as in Delve; the
// parent's breakpoint still stops.
func TestFollowExecRegex(t *testing.T) {
	bin := fixture.Build(t, "execchild", fixture.Flavour{})
	s := newSession(t, "execchild")
	s.want("config source-list-line-count 0", "")
	s.want("target follow-exec -on nomatch$", "")
	s.want("break main.childWork", "Breakpoint 1 set at 0xPC for main.childWork() ./main.go:11\n")
	s.want("break main.parentDone", "Breakpoint 2 set at 0xPC for main.parentDone() ./main.go:15\n")
	stop := s.do("continue")
	list := targetRE.FindAllStringSubmatch(s.do("target list"), -1)
	if len(list) != 1 || list[0][1] != "*" || list[0][3] != bin {
		t.Errorf("target list: %q", list)
	}
	spawnRE := regexp.MustCompile(`^Spawned new process '` + regexp.QuoteMeta(bin) + ` child' \(([0-9]+)\)\n` +
		regexp.QuoteMeta("> [Breakpoint 2] main.parentDone() ./main.go:15 (hits goroutine(1):1 total:1) (PC: 0xPC)\n"+
			"=>  15:\tfunc parentDone(code int) {\n") + "$")
	if m := spawnRE.FindStringSubmatch(stop); m == nil || len(list) == 1 && m[1] == list[0][2] {
		t.Errorf("continue:\n%s\nwant the child announced, then the parent's stop", stop)
	}
	s.want("target follow-exec -off", "")
	s.want("target follow-exec", "Follow exec is disabled.\n")
}

// TestFollowExecNext: the other targets run during a next too, as in
// Delve: a next over the parent's cmd.Run stops in the child at its
// breakpoint, which is selected; the parent's interrupted next is
// abandoned, so the next continue runs both to their ends.
func TestFollowExecNext(t *testing.T) {
	bin := fixture.Build(t, "execchild", fixture.Flavour{})
	s := newSession(t, "execchild")
	s.want("config source-list-line-count 0", "")
	s.want("target follow-exec -on", "")
	s.want("break main.childWork", "Breakpoint 1 set at 0xPC for main.childWork() ./main.go:11\n")
	s.want("break main.go:26", "Breakpoint 2 set at 0xPC for main.main() ./main.go:26\n")
	s.want("continue", "> [Breakpoint 2] main.main() ./main.go:26 (hits goroutine(1):1 total:1) (PC: 0xPC)\n"+
		"=>  26:\t\terr := cmd.Run()\n")
	stop := s.do("next")
	list := targetRE.FindAllStringSubmatch(s.do("target list"), -1)
	if len(list) != 2 || list[1][1] != "*" || list[1][3] != bin+" child" {
		t.Fatalf("target list: %q", list)
	}
	if want := fmt.Sprintf("Spawned new process '%s child' (%s)\n", bin, list[1][2]) +
		fmt.Sprintf("Switch target process from %s to %s (%s child)\n", list[0][2], list[1][2], bin) +
		"> [Breakpoint 1] main.childWork() ./main.go:11 (hits goroutine(1):1 total:1) (PC: 0xPC)\n" +
		"=>  11:\tfunc childWork(n int) int {\n"; stop != want {
		t.Errorf("next:\n%s\nwant:\n%s", stop, want)
	}
	// Both end; which exit is reported is the one tinydbg sees last, and
	// the kernel reports the child's and the parent's exits to two ptrace
	// threads in no fixed order.
	out := s.do("continue")
	if out != "error: Process "+list[0][2]+" has exited with status 0\n" && out != "error: Process "+list[1][2]+" has exited with status 0\n" {
		t.Fatalf("continue: %q, want the exit of %s or %s", out, list[0][2], list[1][2])
	}
}
