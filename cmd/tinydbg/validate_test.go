package main

import (
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestCheckExecutableMapsBininfo covers the verdicts cli_test does not: a
// directory, another machine, a 32-bit x86-64 ELF and a good binary.
func TestCheckExecutableMapsBininfo(t *testing.T) {
	dir := t.TempDir()
	good := fixture.Build(t, "basic", fixture.Flavour{})
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	patched := func(name string, edit func([]byte)) string {
		c := append([]byte(nil), b...)
		edit(c)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, c, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	arm := patched("arm64", func(c []byte) { c[18], c[19] = byte(elf.EM_AARCH64), 0 })
	cases := []struct{ path, want string }{
		{dir, dir + " is a directory, not an executable (use 'tinydbg debug " + dir + "' to build and debug a package)"},
		{arm, arm + " is built for EM_AARCH64; tinydbg debugs linux/amd64 programs only"},
	}
	for _, c := range cases {
		err := checkExecutable(c.path)
		if err == nil || err.Error() != c.want {
			t.Errorf("checkExecutable(%s) = %v, want %q", c.path, err, c.want)
		}
	}
	if err := checkExecutable(good); err != nil {
		t.Errorf("checkExecutable(basic) = %v, want nil", err)
	}
}

// TestCheckAttachableMapsNative covers the pid verdicts cli_test does not.
func TestCheckAttachableMapsNative(t *testing.T) {
	cases := []struct {
		pid  int
		want string
	}{
		{0, "invalid pid 0"},
		{-3, "invalid pid -3"},
		{os.Getpid(), "tinydbg cannot attach to itself"},
	}
	for _, c := range cases {
		err := checkAttachable(c.pid)
		if err == nil || err.Error() != c.want {
			t.Errorf("checkAttachable(%d) = %v, want %q", c.pid, err, c.want)
		}
	}
}
