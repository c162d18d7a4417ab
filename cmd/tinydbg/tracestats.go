package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tinydbg/tinydbg/pkg/trace"
)

// checkStatsFlags refuses the flags --stats has no use for, rather than
// ignoring them: the table has no events to format, stack or drop.
func checkStatsFlags(cmd *cobra.Command, f *traceFlags) error {
	if !f.stats {
		if f.interval != 0 {
			return errors.New("--interval needs --stats")
		}
		return nil
	}
	if f.interval < 0 {
		return fmt.Errorf("--interval must be 0 or more, got %s", f.interval)
	}
	for _, name := range []string{"perfetto", "stack", "lossy", "timestamp", "verbose"} {
		if cmd.Flags().Changed(name) {
			return fmt.Errorf("--%s does not apply to --stats, which prints a table of figures instead of events", name)
		}
	}
	if f.format != "" && f.format != "text" && f.format != "json" {
		return fmt.Errorf("--stats prints its figures as text or json, not --format %q", f.format)
	}
	return nil
}

// runStats runs `trace --stats`: the tables go to out (stderr, or the
// --events-file), as JSON with --format json, and the summary line is
// made of the same Summary.
func runStats(ctx context.Context, opts trace.Options, f *traceFlags, out io.Writer) (trace.Summary, error) {
	if f.format == "json" {
		out = trace.StatsJSON(out)
	}
	res, err := trace.RunStats(ctx, opts, f.interval, out)
	return res.Summary, err
}
