package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/corefile"
	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestCoreCommand opens a kernel core from the command line and shows the
// panicking goroutine; bad arguments fail with one line.
func TestCoreCommand(t *testing.T) {
	dir := t.TempDir()
	bin := fixture.Build(t, "corecrash", fixture.Flavour{})
	core, _ := corefile.Crash(t, bin)
	r := run(t, dir, "goroutine\nframe 10 print depth + 40\ncontinue\ndump "+filepath.Join(dir, "x")+"\nexit\n", "core", bin, core)
	want := []string{
		"Thread ", "Goroutine 1:",
		"42",
		"can not continue execution of core process",
		"core dumping not supported",
	}
	for _, w := range want {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Errorf("tinydbg core: no %q in\n%s\n%s", w, r.stdout, r.stderr)
		}
	}
	if r.code != 0 {
		t.Errorf("tinydbg core: exit code %d\n%s", r.code, r.stderr)
	}

	missing := filepath.Join(dir, "missing")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"core", bin}, "Error: accepts 2 arg(s), received 1"},
		{[]string{"core", bin, missing}, "Error: core file: stat " + missing + ": no such file or directory"},
		{[]string{"core", bin, bin}, "Error: " + bin + ": not a core file (ELF type ET_EXEC)"},
	}
	for _, c := range cases {
		r := run(t, dir, "", c.args...)
		if r.code == 0 || r.stderr != c.want+"\n" {
			t.Errorf("tinydbg %v: exit %d, stderr %q, want %q", c.args, r.code, r.stderr, c.want)
		}
	}
}
