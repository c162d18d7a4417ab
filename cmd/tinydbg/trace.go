package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tinydbg/tinydbg/internal/gobuild"
	"github.com/tinydbg/tinydbg/pkg/trace"
)

// traceFlags are the options of the trace command.
type traceFlags struct {
	exec      string
	pid       int
	test      bool
	stack     int
	timestamp bool
	verbose   int
	output    string
	depth     int
	format    string
	perfetto  string
	ebpf      bool
}

func newTraceCommand() *cobra.Command {
	var f traceFlags
	cmd := &cobra.Command{
		Use:   "trace [package] regexp [-- args]",
		Short: "Print every call and return of matching functions.",
		Long: `Trace calls without writing a breakpoint by hand.

tinydbg trace reports every call of the functions matching the
regular expression, with its arguments, and every return, with its results,
paired with its own call per goroutine. Without --exec or --pid it builds the
package (default ".") with optimizations disabled, as Delve does.

Two backends print the same values: by default int3 breakpoints through
ptrace (the program stops at each probe); with --ebpf, uprobes that never
stop it. The trace goes to stderr (redirect stdout to see it alone); a
one-line summary ends it.`,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrace(cmd, args, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.exec, "exec", "e", "", "Trace this compiled binary instead of building one.")
	fl.IntVarP(&f.pid, "pid", "p", 0, "Trace the running process with this pid; it keeps running afterwards.")
	fl.BoolVarP(&f.test, "test", "t", false, "Build and trace the package's test binary.")
	fl.IntVarP(&f.stack, "stack", "s", 0, "Print this many stack frames with each call (ptrace backend only).")
	fl.BoolVar(&f.timestamp, "timestamp", false, "Prefix each event with its time.")
	fl.IntVarP(&f.verbose, "verbose", "v", 0, "How values are shown: 0 values only, 1 or more name: value.")
	fl.StringVar(&f.output, "output", "", "Where to write the built binary.")
	fl.IntVar(&f.depth, "depth", 1, "How many pointers are followed in arguments and results.")
	fl.StringVar(&f.format, "format", "text", "Output format: text, json (JSON Lines) or graph (call tree per goroutine).")
	fl.StringVar(&f.perfetto, "perfetto", "", "Also write a Chrome trace-event JSON file for ui.perfetto.dev.")
	fl.BoolVar(&f.ebpf, "ebpf", false, "Trace using eBPF uprobes: the program never stops.")
	return cmd
}

func runTrace(cmd *cobra.Command, args []string, f *traceFlags) error {
	ours, targetArgs := args, []string(nil)
	if dash := cmd.ArgsLenAtDash(); dash >= 0 {
		ours, targetArgs = args[:dash], args[dash:]
	}
	var pkg, re string
	switch len(ours) {
	case 0:
		return errors.New("you must supply a regexp for functions to trace")
	case 1:
		re = ours[0]
	case 2:
		pkg, re = ours[0], ours[1]
	default:
		return fmt.Errorf("too many arguments: want [package] regexp, got %d", len(ours))
	}
	// A negative count would silently mean "none" (or "all") further
	// down; say so instead.
	if f.depth < 0 {
		return fmt.Errorf("--depth must be 0 or more, got %d", f.depth)
	}
	if f.stack < 0 {
		return fmt.Errorf("--stack must be 0 or more, got %d", f.stack)
	}
	if f.exec != "" && pkg != "" {
		return errors.New("cannot specify package when using --exec")
	}
	if f.exec != "" && f.pid != 0 {
		return errors.New("--exec and --pid are mutually exclusive")
	}
	if f.ebpf && f.stack > 0 {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning: --stack is ignored with --ebpf")
		f.stack = 0
	}
	opts := trace.Options{Regexp: re, Pid: f.pid, Args: targetArgs, EBPF: f.ebpf, Depth: f.depth, Stack: f.stack}
	if wd := cmd.Flag("wd"); wd != nil {
		opts.Dir = wd.Value.String() // the root's --wd, when present
	}
	if f.pid == 0 {
		opts.Exec = f.exec
		if opts.Exec == "" {
			bin, cleanup, err := buildForTrace(cmd, pkg, f)
			if err != nil {
				return err
			}
			defer cleanup()
			opts.Exec = bin
		}
	}
	if f.pid != 0 && len(targetArgs) > 0 {
		return errors.New("program arguments cannot be given with --pid")
	}

	out := cmd.ErrOrStderr()
	sink, err := traceSink(out, f)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	sum, err := trace.Run(ctx, opts, sink)
	// Bad input (no permission, no match, no such file) stops the trace
	// before any probe exists: its error is then the only line.
	if sum.Probes > 0 {
		fmt.Fprintln(out, sum)
	}
	if err != nil {
		return err
	}
	if f.pid == 0 && sum.Exited {
		code := sum.ExitCode
		if sum.Signal != 0 {
			code = 128 + sum.Signal
		}
		if code != 0 {
			return exitCodeError{code} // main exits with it, silently
		}
	}
	return nil
}

// traceSink builds the writer for --format, plus the --perfetto file.
func traceSink(out io.Writer, f *traceFlags) (trace.Sink, error) {
	var main trace.Sink
	switch f.format {
	case "text", "":
		tw := trace.NewTextWriter(out)
		tw.Timestamps, tw.Verbose, tw.Start = f.timestamp, f.verbose > 0, time.Now()
		main = tw
	case "json":
		main = trace.NewJSONWriter(out)
	case "graph":
		main = trace.NewGraphWriter(out)
	default:
		return nil, fmt.Errorf("unknown --format %q: want text, json or graph", f.format)
	}
	if f.perfetto == "" {
		return main, nil
	}
	file, err := os.Create(f.perfetto)
	if err != nil {
		return nil, fmt.Errorf("creating the perfetto file: %w", err)
	}
	return trace.Multi{main, trace.NewPerfettoWriter(file)}, nil
}

// buildForTrace compiles pkg (default ".") with optimizations and inlining
// disabled, as Delve does, into --output or a temporary file.
func buildForTrace(cmd *cobra.Command, pkg string, f *traceFlags) (string, func(), error) {
	var flags []string
	if bf := cmd.Flag("build-flags"); bf != nil {
		var err error
		if flags, err = gobuild.SplitFlags(bf.Value.String()); err != nil {
			return "", nil, fmt.Errorf("--build-flags: %w", err)
		}
	}
	bin, cleanup, err := gobuild.Build(gobuild.Options{Package: pkg, Test: f.test, Output: f.output,
		TempPattern: "tinydbg-trace-", Flags: flags})
	var be *gobuild.Error
	if errors.As(err, &be) {
		return "", nil, fmt.Errorf("could not build %s:\n%s", pkg, be.Output)
	}
	return bin, cleanup, err
}
