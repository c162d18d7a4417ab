package main

import (
	"github.com/spf13/cobra"

	"github.com/tinydbg/tinydbg/service/dap"
)

// newReplayCommand is Delve's `replay`, which drives rr over a recorded
// trace. tinydbg has no rr backend: the command exists so that a script
// or IDE passing dlv's line gets the reason, and what rr can do on this
// machine, instead of "unknown command".
func newReplayCommand() *cobra.Command {
	var onProcess int
	c := &cobra.Command{
		Use:   "replay [trace directory]",
		Short: "Replay an rr trace (not supported: tinydbg has no rr backend).",
		Long: `Delve's replay command drives rr (https://rr-project.org) over a trace
it recorded. tinydbg has no rr backend, so this command always fails; its
error says whether rr is installed and whether it can record here.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return dap.ReplayUnsupported()
		},
	}
	// Accepted so that dlv's line reaches the refusal, not a flag error.
	c.Flags().IntVarP(&onProcess, "onprocess", "p", 0, "Accepted for Delve compatibility; replay is refused.")
	return c
}
