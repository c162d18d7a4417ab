package main

import (
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestFollowExecFlag: --follow-exec starts the session following exec'd
// children, so a breakpoint in the child stops there; a bad
// --follow-exec-regex is one line of error.
func TestFollowExecFlag(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "execchild", fixture.Flavour{})
	dir := t.TempDir()
	r := run(t, dir, "config source-list-line-count 0\ntarget follow-exec\nbreak main.childWork\ncontinue\nprint n\nexit\n", "exec", "--follow-exec", bin)
	want := "Follow exec is enabled.\n" +
		"Breakpoint 1 set at "
	if !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stdout, "main.childWork() "+fixture.Dir()+"/execchild/main.go:11 (hits goroutine(1):1 total:1)") ||
		!strings.HasSuffix(r.stdout, "\n14\n") || r.code != 0 {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, dir, "", "exec", "--follow-exec-regex", "[", bin)
	if r.code == 0 || r.stderr != "Error: follow-exec regex: error parsing regexp: missing closing ]: `[`\n" {
		t.Errorf("bad regex: exit %d, stderr %q", r.code, r.stderr)
	}
}
