package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tinydbg/tinydbg/service/debugger"
)

// newCoreCommand is Delve's `core`: a read-only session over a core file.
func newCoreCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "core <executable> <core>",
		Short: "Examine a core dump.",
		Long: `Examine a core dump: the executable and the core file it left, from the
kernel (GOTRACEBACK=crash with ulimit -c unlimited) or from the dump command.

Threads, goroutines, stacks, variables and registers can be looked at;
nothing runs, so continue, step and breakpoints are refused.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			exe, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			if err := checkExecutable(exe); err != nil {
				return err
			}
			if _, err := os.Stat(args[1]); err != nil {
				return fmt.Errorf("core file: %w", err)
			}
			return runSession(o, debugger.Config{Path: exe, CoreFile: args[1]}, cmd.OutOrStdout())
		},
	}
}
