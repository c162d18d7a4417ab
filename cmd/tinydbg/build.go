package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// noOptFlags disable optimizations and inlining so every variable and
// line is visible to the debugger.
const noOptFlags = "-gcflags=all=-N -l"

// buildBinary compiles pkg (go build, or go test -c for tests) into a
// temporary file, or into --output, and returns a cleanup that removes
// the temporary file.
func buildBinary(o *options, pkg string, test bool) (string, func(), error) {
	out := o.output
	cleanup := func() {}
	if out == "" {
		dir, err := os.MkdirTemp("", "tinydbg-build-")
		if err != nil {
			return "", nil, fmt.Errorf("creating build directory: %w", err)
		}
		out = filepath.Join(dir, "__debug_bin")
		cleanup = func() { os.RemoveAll(dir) }
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	args := []string{"build"}
	if test {
		args = []string{"test", "-c"}
	}
	args = append(args, "-o", abs, noOptFlags)
	extra, err := splitFlags(o.buildFlags)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	args = append(args, extra...)
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = os.Stderr, &stderr
	if err := cmd.Run(); err != nil {
		cleanup()
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", nil, fmt.Errorf("could not build %s:\n%s", pkg, msg)
	}
	if _, err := os.Stat(abs); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("%s has no tests to debug (go test -c produced no binary)", pkg)
	}
	return abs, cleanup, nil
}

// packageDir is the source directory of pkg, where its tests run.
func packageDir(pkg string) (string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w", pkg, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// splitFlags splits --build-flags like a shell would for simple quoting:
// spaces separate words except inside single or double quotes.
func splitFlags(s string) ([]string, error) {
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
		return nil, fmt.Errorf("unterminated quote in --build-flags %q", s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
