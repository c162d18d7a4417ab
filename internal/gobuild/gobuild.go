// Package gobuild compiles a Go package for debugging, the way Delve's
// debug and test commands do: optimizations and inlining off so that every
// variable and line is visible, into a temporary binary unless told where.
// The CLI and the DAP server both build through it, so both get the same
// flags, quoting rules and cleanup.
package gobuild

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// NoOptFlags disable optimizations and inlining in every package.
const NoOptFlags = "-gcflags=all=-N -l"

// Options say what to build and where.
type Options struct {
	// Package is the package argument of the go command ("." when empty).
	Package string
	// Dir is the directory the go command runs in; empty: the current one.
	// Running in the package's directory builds it in its own module.
	Dir string
	// Test builds the package's test binary (go test -c) instead.
	Test bool
	// Output is where the binary goes; empty: a fresh temporary directory
	// that the cleanup removes.
	Output string
	// TempPattern names the temporary directory (os.MkdirTemp pattern);
	// empty: "tinydbg-build-".
	TempPattern string
	// Flags are extra go build flags, already split into words.
	Flags []string
	// Env is the go command's environment; nil: this process's.
	Env []string
}

// Error is a failed build: the go command's arguments and what it printed.
type Error struct {
	Args   []string
	Output string
}

// Error returns the go command line and its output.
func (e *Error) Error() string {
	return fmt.Sprintf("go %s: %s", strings.Join(e.Args, " "), e.Output)
}

// ErrNoTests says a test build produced no binary: the package has no tests.
var ErrNoTests = errors.New("no tests to debug (go test -c produced no binary)")

// Build compiles o.Package and returns the absolute path of the binary and
// a cleanup that removes the temporary directory it created, if any; a
// binary written to o.Output is left for the caller to remove or keep.
func Build(o Options) (string, func(), error) {
	cleanup := func() {}
	out := o.Output
	if out == "" {
		pattern := o.TempPattern
		if pattern == "" {
			pattern = "tinydbg-build-"
		}
		dir, err := os.MkdirTemp("", pattern)
		if err != nil {
			return "", nil, fmt.Errorf("creating a build directory: %w", err)
		}
		out = filepath.Join(dir, "__debug_bin")
		cleanup = func() { os.RemoveAll(dir) }
	}
	// The go command may run elsewhere: a relative output is the caller's.
	abs, err := filepath.Abs(out)
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("output path: %w", err)
	}
	pkg := o.Package
	if pkg == "" {
		pkg = "."
	}
	args := []string{"build"}
	if o.Test {
		args = []string{"test", "-c"}
	}
	args = append(args, "-o", abs, NoOptFlags)
	args = append(args, o.Flags...)
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = o.Dir, o.Env
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		cleanup()
		msg := strings.TrimSpace(output.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", nil, &Error{Args: args, Output: msg}
	}
	if _, err := os.Stat(abs); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("%s has %w", pkg, ErrNoTests)
	}
	return abs, cleanup, nil
}

// SplitFlags splits build flags given as one string like a shell would
// for simple quoting: blanks separate words except inside single or double
// quotes.
func SplitFlags(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
