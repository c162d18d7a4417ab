package terminal_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/terminal"
)

// TestTargetCommands: target list shows the one debugged process as
// Delve does (selected mark, pid, command line as the kernel has it);
// follow-exec reports itself off and refuses to turn on (a bad regex
// first gets its own message); switching to another pid fails in
// Delve's words, to the debugged one succeeds silently.
func TestTargetCommands(t *testing.T) {
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	out, errOut := runREPL(t, "basic", "target list\ntarget follow-exec\ntarget follow-exec -on\ntarget follow-exec -on [\n"+
		"target follow-exec -off\ntarget follow-exec -off x\ntarget switch 1\ntarget\ntarget frob\nexit\n")
	list := regexp.MustCompile(`^\*   ([0-9]+)  ` + regexp.QuoteMeta(bin) + "\nFollow exec is disabled.\n$")
	if !list.MatchString(out) {
		t.Errorf("stdout:\n%q\nwant to match %s", out, list)
	}
	wantErr := "Command failed: follow-exec is not supported by tinydbg: child processes are not debugged\n" +
		"Command failed: follow-exec regex: error parsing regexp: missing closing ]: `[`\n" +
		"Command failed: too many arguments\n" +
		"Command failed: could not find target 1\n" +
		"Command failed: not enough arguments for 'target'\n" +
		"Command failed: unknown command 'target frob'\n"
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
	// Switching to the debugged process itself, in one session.
	c := startSession(t, bin)
	pid, err := c.ProcessPid()
	if err != nil {
		t.Fatal(err)
	}
	var out2, err2 strings.Builder
	term := terminal.New(c, terminal.Config{Stdin: strings.NewReader(""), Stdout: &out2, Stderr: &err2, HistoryFile: "-"})
	if err := term.Call("target switch " + strconv.Itoa(pid)); err != nil || out2.String() != "" {
		t.Errorf("target switch %d: %v, printed %q", pid, err, out2.String())
	}
}
