package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tinydbg/tinydbg/internal/gobuild"
)

// buildBinary compiles pkg (go build, or go test -c for tests) with
// optimizations off into a temporary file, or into --output, and returns
// a cleanup that removes the temporary file.
func buildBinary(o *options, pkg string, test bool) (string, func(), error) {
	flags, err := gobuild.SplitFlags(o.buildFlags)
	if err != nil {
		return "", nil, fmt.Errorf("--build-flags: %w", err)
	}
	bin, cleanup, err := gobuild.Build(gobuild.Options{Package: pkg, Test: test, Output: o.output, Flags: flags})
	var be *gobuild.Error
	if errors.As(err, &be) {
		return "", nil, fmt.Errorf("could not build %s:\n%s", pkg, be.Output)
	}
	return bin, cleanup, err
}

// packageDir is the source directory of pkg, where its tests run.
func packageDir(pkg string) (string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w", pkg, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// rebuilder is the rebuild command's build: the same package and flags,
// written over bin while the old process still runs from it.
func rebuilder(o *options, pkg string, test bool, bin string) func() error {
	return func() error {
		flags, err := gobuild.SplitFlags(o.buildFlags)
		if err != nil {
			return fmt.Errorf("--build-flags: %w", err)
		}
		_, _, err = gobuild.Build(gobuild.Options{Package: pkg, Test: test, Output: bin, Flags: flags})
		var be *gobuild.Error
		if errors.As(err, &be) {
			return fmt.Errorf("could not build %s:\n%s", pkg, be.Output)
		}
		return err
	}
}

// addFollowFlags adds --follow-exec and --follow-exec-regex, which start
// the session as "target follow-exec -on [regex]" would (dlv has only the
// command, and followExec in DAP launch configurations).
func addFollowFlags(c *cobra.Command, o *options) {
	c.Flags().BoolVar(&o.followExec, "follow-exec", false, "Debug the child processes the program forks and execs too.")
	c.Flags().StringVar(&o.followRegex, "follow-exec-regex", "", "Follow only children whose command line matches this regular expression (implies --follow-exec).")
}
