package gobuild

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

func TestSplitFlags(t *testing.T) {
	got, err := SplitFlags(`-tags 'a b' -ldflags="-X main.v=1"  -race`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-tags", "a b", "-ldflags=-X main.v=1", "-race"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("SplitFlags = %q, want %q", got, want)
	}
	if _, err := SplitFlags(`-tags 'oops`); err == nil || err.Error() != `unterminated quote in "-tags 'oops"` {
		t.Errorf("unterminated quote: %v", err)
	}
}

// TestBuildRunsAndCleansUp builds a fixture in its own module with an
// environment of its own, runs it, and checks the cleanup removes the
// temporary directory.
func TestBuildRunsAndCleansUp(t *testing.T) {
	dir := filepath.Dir(fixture.Source("envprint"))
	env := append(os.Environ(), "GOFLAGS=-tags=tinydbgtest")
	bin, cleanup, err := Build(Options{Dir: dir, TempPattern: "tinydbg-gobuild-test-", Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(bin) || filepath.Base(bin) != "__debug_bin" ||
		!strings.HasPrefix(filepath.Base(filepath.Dir(bin)), "tinydbg-gobuild-test-") {
		t.Fatalf("binary at %s", bin)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"TINYDBG_ENV_SET=1"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "TINYDBG_ENV_SET=\"1\" true\nTINYDBG_ENV_UNSET=\"\" false\n"; string(out) != want {
		t.Fatalf("output %q, want %q", out, want)
	}
	// The build settings recorded in the binary show the flags and that
	// the environment's GOFLAGS reached the go command.
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(info), "build\t-gcflags=\"all=-N -l\"\n") || !strings.Contains(string(info), "build\t-tags=tinydbgtest\n") {
		t.Errorf("build settings lack the debug flags or the environment's GOFLAGS:\n%s", info)
	}
	cleanup()
	if _, err := os.Stat(filepath.Dir(bin)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary directory left behind: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	dir := filepath.Dir(fixture.Source("envprint"))
	_, _, err := Build(Options{Dir: dir, Flags: []string{"-nosuchflag"}})
	var be *Error
	if !errors.As(err, &be) || be.Args[0] != "build" || !strings.Contains(be.Output, "flag provided but not defined: -nosuchflag") {
		t.Fatalf("bad flag: %v", err)
	}
	_, _, err = Build(Options{Dir: dir, Test: true, Output: filepath.Join(t.TempDir(), "t.test")})
	if !errors.Is(err, ErrNoTests) || err.Error() != ". has no tests to debug (go test -c produced no binary)" {
		t.Fatalf("package without tests: %v", err)
	}
}
