package dap

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// noOptFlags keep every variable and line of the program visible.
const noOptFlags = "-gcflags=all=-N -l"

// programDir is the directory of a program given as a directory or as a
// file in it.
func programDir(program string) string {
	if fi, err := os.Stat(program); err == nil && !fi.IsDir() {
		return filepath.Dir(program)
	}
	return program
}

// buildProgram compiles the package at program (a directory, or a Go
// file whose directory is the package) for debugging, its tests when test
// is set, into output or a temporary file. The go command runs in the
// package directory, so a program with its own go.mod builds in its own
// module. The cleanup removes the binary: Delve deletes it at the end of
// the session too.
func buildProgram(program string, test bool, output string, flags []string) (string, func(), error) {
	dir := programDir(program)
	target := "."
	if dir != program && !test {
		target = filepath.Base(program)
	}
	var tmp string
	if output == "" {
		var err error
		if tmp, err = os.MkdirTemp("", "tinydbg-dap-"); err != nil {
			return "", nil, fmt.Errorf("creating a build directory: %w", err)
		}
		output = filepath.Join(tmp, "__debug_bin")
	}
	out, err := filepath.Abs(output)
	if err != nil {
		return "", nil, err
	}
	cleanup := func() {
		os.Remove(out)
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}
	args := []string{"build"}
	if test {
		args = []string{"test", "-c"}
	}
	args = append(args, "-o", out, noOptFlags)
	args = append(args, flags...)
	args = append(args, target)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		cleanup()
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", nil, fmt.Errorf("go %s: %s", strings.Join(args, " "), msg)
	}
	if _, err := os.Stat(out); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("%s has no tests to debug (go test -c produced no binary)", program)
	}
	return out, cleanup, nil
}
