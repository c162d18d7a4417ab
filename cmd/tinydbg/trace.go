package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tinydbg/tinydbg/internal/gobuild"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf/cond"
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
	lossy     bool
	cond      string
	events    string
	compare   bool
	stats     bool
	interval  time.Duration
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
ptrace (the thread that hits a probe stops while its event is built); with
--ebpf, uprobes that stop nothing. Neither loses an event: when the eBPF
trace falls behind, the program is held (stopped with SIGSTOP, resumed with
SIGCONT) until it catches up, and the summary says for how long; with
--lossy it is never held and the summary counts what each function lost.

With --stats no event is printed: at the end, and every --interval, a table
gives per function the calls, p50/p90/p99 latency (bounds of histogram
buckets at most 12.5% wide) and the exact max, paired per goroutine as the
trace pairs; with --ebpf the figures are aggregated in the kernel. With
--format json each table is one JSON object, its histograms' buckets
included (pkg/trace/FORMAT.md).

--if COND reports only the calls for which COND, a Go expression over the
function's arguments, holds at its entry, and their returns. With --ebpf it
is compiled to BPF and filtered calls never leave the kernel; a condition
that cannot be compiled is evaluated by stopping at each call, as without
--ebpf, after one line saying why. A COND naming something that is not in
scope in a matched function is refused before anything is traced, in one line
naming the symbol and the functions. --stats does not filter calls, so it
refuses --if.
The summary counts the filtered calls and those where COND faulted (a nil
pointer, a division by zero).

The trace goes to stderr, or to the file named by --events-file (a write
error ends the trace); the summary always goes to stderr. SIGINT, SIGTERM
and SIGHUP end the trace: a program started by it is killed, one attached
with --pid runs on with no probe left.`,
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
	fl.StringVar(&f.format, "format", "text", "Output format: text, json (JSON Lines) or graph (call tree per goroutine); with --stats, text or json.")
	fl.StringVar(&f.perfetto, "perfetto", "", "Also write a Chrome trace-event JSON file for ui.perfetto.dev.")
	fl.BoolVar(&f.ebpf, "ebpf", false, "Trace using eBPF uprobes: the program stops only to let the trace catch up.")
	fl.BoolVar(&f.lossy, "lossy", false, "With --ebpf, never hold the program: drop events when behind and count them per function.")
	fl.StringVar(&f.cond, "if", "", "Report only calls for which this Go condition on the arguments holds (with --ebpf: evaluated in the kernel).")
	fl.StringVar(&f.events, "events-file", "", "Write the events to this file instead of stderr; the summary stays on stderr.")
	fl.BoolVar(&f.compare, "compare", false, "Run the program once under each backend and print side by side what each saw, cost and showed differently.")
	fl.BoolVar(&f.stats, "stats", false, "Print no events: count calls and per-goroutine latency percentiles per function (with --ebpf, in the kernel).")
	fl.DurationVar(&f.interval, "interval", 0, "With --stats, also print the table every interval (e.g. 1s).")
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
	if f.lossy && !f.ebpf {
		return errors.New("--lossy needs --ebpf: the ptrace backend never drops events")
	}
	if f.compare && (f.ebpf || f.lossy || f.pid != 0) {
		return errors.New("--compare runs the program once under each backend: not with --ebpf, --lossy or --pid")
	}
	if f.compare && (f.format != "text" || f.perfetto != "" || f.events != "" || f.stack > 0) {
		return errors.New("--compare prints its own table: not with --format, --perfetto, --events-file or --stack")
	}
	if f.compare && f.stats {
		return errors.New("--compare and --stats each print their own table: choose one")
	}
	if err := checkStatsFlags(cmd, f); err != nil {
		return err
	}
	opts := trace.Options{Regexp: re, Pid: f.pid, Args: targetArgs, EBPF: f.ebpf, Depth: f.depth, Stack: f.stack, Lossy: f.lossy, Cond: f.cond}
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
	if f.pid != 0 {
		if err := checkTracePid(f.pid, f.ebpf); err != nil {
			return err
		}
	}

	if f.ebpf {
		// An eBPF trace's garbage is per event and dies at once, while the
		// live heap is the program's symbol tables, which do not grow: a
		// heap goal of 5× rather than 2× of them cuts the collector's
		// share of each event's CPU by about a fifth (bench/RESULTS.md §4).
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	out := cmd.ErrOrStderr()
	if f.compare {
		return runCompare(cmd, opts)
	}
	if f.ebpf && !f.lossy && f.pid != 0 && foregroundJob(f.pid) {
		fmt.Fprintf(out, "warning: %d is the foreground job of a terminal: if the trace falls behind, its shell "+
			"sees the hold as a job stop (\"Stopped\", status 147) and leaves it in the background; --lossy never holds it\n", f.pid)
	}
	evOut := out
	var evFile *os.File
	if f.events != "" {
		var err error
		if evFile, err = os.Create(f.events); err != nil {
			return fmt.Errorf("creating the events file: %w", err)
		}
		evOut = evFile
	}
	sink, err := traceSink(evOut, f)
	if err != nil {
		evFile.Close()
		return err
	}
	// A hang-up (the terminal closed) ends the trace like an interrupt: the
	// default action would kill tinydbg with its probes in place. SIGPIPE
	// is received, not acted on, so a closed output pipe is a write error
	// that ends the trace cleanly rather than killing tinydbg.
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	defer signal.Stop(pipe)
	var sum trace.Summary
	if f.stats {
		sink.Close()
		sum, err = runStats(ctx, opts, f, evOut)
	} else {
		sum, err = trace.Run(ctx, opts, sink)
	}
	if opts.EBPF && sum.Probes == 0 && errors.Is(err, cond.ErrNotCompilable) {
		// The promise for a condition the kernel cannot run: it is
		// evaluated by stopping, as without --ebpf, and one line says why.
		// No probe was attached and the program has not run yet (a
		// started one was killed, an attached one left as it was).
		fmt.Fprintf(out, "trace: %v; evaluating it by stopping at each call (backend ptrace)\n", err)
		opts.EBPF, opts.Lossy = false, false
		sum, err = rerunPtrace(ctx, opts, f, evOut)
	}
	if evFile != nil {
		if cerr := evFile.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing the events file: %w", cerr)
		}
	}
	// Bad input (no permission, no match, no such file) stops the trace
	// before any probe exists: its error is then the only line.
	if sum.Probes > 0 {
		fmt.Fprintln(out, sum)
		fmt.Fprintln(out, sum.CostLine())
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

// rerunPtrace runs the trace again with the ptrace backend, on a new sink.
func rerunPtrace(ctx context.Context, opts trace.Options, f *traceFlags, evOut io.Writer) (trace.Summary, error) {
	sink, err := traceSink(evOut, f)
	if err != nil {
		return trace.Summary{}, err
	}
	if f.stats {
		sink.Close()
		return runStats(ctx, opts, f, evOut)
	}
	return trace.Run(ctx, opts, sink)
}

// runCompare traces the program under both backends and prints the
// comparison on stdout. The program's own exit status is not passed on:
// it ran twice.
func runCompare(cmd *cobra.Command, opts trace.Options) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	c, err := trace.Compare(ctx, opts)
	if err != nil {
		return err
	}
	// On stderr, as a trace's events: stdout is the program's.
	return c.Write(cmd.ErrOrStderr())
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

// foregroundJob tells whether pid belongs to the foreground process group
// of its controlling terminal, where a job-control shell waits for it with
// WUNTRACED: a SIGSTOP then returns the terminal to the shell.
func foregroundJob(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Fields after the command's closing parenthesis: state ppid pgrp
	// session tty_nr tpgid ...
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 6 {
		return false
	}
	pgrp, tty, tpgid := f[2], f[4], f[5]
	return tty != "0" && pgrp == tpgid
}
