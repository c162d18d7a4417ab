package dap

import (
	"os"
	"path/filepath"

	"github.com/tinydbg/tinydbg/internal/gobuild"
)

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
// is set, into output or a temporary file, with env as the go command's
// environment. The go command runs in the package directory, so a program
// with its own go.mod builds in its own module. The cleanup removes the
// binary even when output named it: Delve deletes it at the end of the
// session too.
func buildProgram(program string, test bool, output string, flags, env []string) (string, func(), error) {
	dir := programDir(program)
	target := "."
	if dir != program && !test {
		target = filepath.Base(program)
	}
	out, cleanup, err := gobuild.Build(gobuild.Options{Package: target, Dir: dir, Test: test,
		Output: output, TempPattern: "tinydbg-dap-", Flags: flags, Env: env})
	if err != nil {
		return "", nil, err
	}
	return out, func() {
		os.Remove(out)
		cleanup()
	}, nil
}
