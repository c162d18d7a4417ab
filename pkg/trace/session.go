package trace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
	"github.com/tinydbg/tinydbg/pkg/proc/nonstop"
)

// Options describe one trace: what to run or attach to, which functions,
// which backend and how much of each value to load.
type Options struct {
	// Regexp selects the traced functions by fully qualified name.
	Regexp string
	// Exec is the program to start, with Args; ignored when Pid is set.
	Exec string
	Args []string
	Dir  string
	// Stdin, Stdout and Stderr of a started program; nil: the tracer's.
	Stdin, Stdout, Stderr *os.File
	// Pid is a running process to attach to; it is left running afterwards.
	Pid int
	// EBPF selects the uprobe backend, which never stops the program.
	EBPF bool
	// Depth is how many pointers are followed in arguments and results.
	Depth int
	// Stack is the number of frames printed with each event (ptrace only).
	Stack int
	// Lossy lets the eBPF backend lose events rather than hold the
	// program when the trace falls behind; it reports what each function
	// lost. The ptrace backend never loses events.
	Lossy bool
	// Cond, when set, reports only the calls for which this Go expression
	// over the function's arguments holds at its entry, and their returns:
	// compiled into the kernel with EBPF, evaluated by stopping otherwise.
	Cond string

	ringBytes int // tests: the eBPF ring buffer size, 0 for the default
	// observe, when set, sees every event with its decoded values
	// before they become text (Compare measures their depth).
	observe func(*Event)
	// checkReuse, for tests, loads every value the eBPF reader would have
	// reused the text of, and counts differences in Summary.memo.
	checkReuse bool
}

// Summary is what a trace did, printed on stderr at the end.
type Summary struct {
	Backend string // "ptrace" or "ebpf"
	Funcs   int    // functions traced
	Probes  int    // probe sites (entries plus returns)
	Events  uint64
	Dropped uint64
	// Lost lists the functions that lost events, and how many; nil when
	// none did (a pointer keeps Summary comparable).
	Lost *[]FuncDrops
	// Holds counts the times the eBPF backend stopped the program until
	// the trace caught up; Held is how long it was stopped in all.
	Holds uint64
	Held  time.Duration
	// Cond is set when a condition filtered the calls: Filtered counts the
	// calls it was false for, CondFaults those it could not be evaluated
	// for (an invalid pointer, a division by zero); both went unreported.
	Cond                 bool
	Filtered, CondFaults uint64
	// Unread counts the eBPF events with a value the probe could not
	// read (unmapped, or not in memory at the call); each value says so.
	Unread uint64
	// Cut counts the other eBPF events whose values the probe's limits
	// cut short; each missing part prints "not captured by the probe".
	Cut uint64
	// Exited is set when the program ended during the trace, with its
	// exit status or the signal that killed it.
	Exited   bool
	ExitCode int
	Signal   int
	// ExitUnknown is set when a process we did not start exited during
	// an eBPF trace: its status goes to its own parent, not to us.
	ExitUnknown bool
	// Interrupted is set when the trace was stopped by cancelling its
	// context (SIGINT/SIGTERM); the program was detached or killed.
	Interrupted bool
	// Cost is what the probes cost the program (see cost.go).
	Cost Cost
	// memo is how often the eBPF reader reused a value's text (tests).
	memo ebpf.MemoStats
}

// String renders the summary as one line.
func (s Summary) String() string {
	line := fmt.Sprintf("trace: %s, %d dropped, %s on %s, backend %s",
		plural(int(s.Events), "event"), s.Dropped, plural(s.Probes, "probe"), plural(s.Funcs, "function"), s.Backend)
	if s.Holds > 0 {
		line += fmt.Sprintf("; program held %s for %s", plural(int(s.Holds), "time"), s.Held.Round(time.Microsecond))
	}
	if s.Cond {
		line += fmt.Sprintf("; %s filtered by the condition, %s", plural(int(s.Filtered), "call"), plural(int(s.CondFaults), "condition fault"))
	}
	if s.Cut > 0 {
		line += fmt.Sprintf("; %s with values cut at the probe's limits", plural(int(s.Cut), "event"))
	}
	if s.Unread > 0 {
		line += fmt.Sprintf("; %s with values the probe could not read", plural(int(s.Unread), "event"))
	}
	if e := s.ending(); e != "" {
		line += "; " + e
	}
	if s.Lost != nil {
		for _, l := range *s.Lost {
			line += fmt.Sprintf("\ntrace: %s lost %s and %s", l.Function, plural(int(l.Calls), "call"), plural(int(l.Returns), "return"))
		}
	}
	return line
}

// ending says how the program or the trace ended; "" while it runs.
func (s Summary) ending() string {
	switch {
	case s.Exited && s.ExitUnknown:
		return "program exited"
	case s.Exited && s.Signal != 0:
		return fmt.Sprintf("program killed by signal %d", s.Signal)
	case s.Exited:
		return fmt.Sprintf("program exited with status %d", s.ExitCode)
	case s.Interrupted:
		return "interrupted"
	}
	return ""
}

// FuncDrops is what one function lost, in calls and returns.
type FuncDrops = ebpf.FuncDrops

// MatchFuncs returns the functions of bi whose names match re. When none
// does, the error names the closest function names.
func MatchFuncs(bi *bininfo.BinaryInfo, re string) ([]*bininfo.Function, error) {
	rx, err := regexp.Compile(re)
	if err != nil {
		return nil, fmt.Errorf("invalid regexp %q: %w", re, err)
	}
	var out []*bininfo.Function
	for _, fn := range bi.FuncsMatching(rx) {
		if fn.End > fn.Entry {
			out = append(out, fn)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	// The pattern is usually a name, or close to one: the symbol lookup
	// knows how to suggest near misses for a name.
	literal := strings.NewReplacer(`\.`, ".", "^", "", "$", "", `\`, "").Replace(re)
	if _, err := bi.LookupFunc(literal); err != nil {
		if i := strings.Index(err.Error(), "(did you mean"); i >= 0 {
			return nil, fmt.Errorf("%w %q %s", errNoFuncs, re, strings.TrimSpace(err.Error()[i:]))
		}
	}
	return nil, fmt.Errorf("%w %q", errNoFuncs, re)
}

// Run traces the program described by opts, sending every event to sink,
// until the program exits or ctx is cancelled. A started program is killed
// on cancellation; an attached one is detached and keeps running, with
// every breakpoint byte restored. The sink is closed before Run returns.
func Run(ctx context.Context, opts Options, sink Sink) (sum Summary, err error) {
	sum.Backend = "ptrace"
	if opts.EBPF {
		sum.Backend = "ebpf"
	}
	defer func() {
		if cerr := writeErr(sink.Close()); err == nil && cerr != nil {
			err = cerr
		}
		// A failed write ends the trace with that one error, whichever
		// layer of the backend it came through.
		var we *WriteError
		if errors.As(err, &we) {
			err = we
		}
	}()
	if _, err := regexp.Compile(opts.Regexp); err != nil {
		return sum, fmt.Errorf("invalid regexp %q: %w", opts.Regexp, err)
	}
	if opts.EBPF {
		return runEBPF(ctx, opts, sink, sum)
	}
	tg, err := start(opts)
	if err != nil {
		return sum, err
	}
	finished := false
	defer func() { leaveUnfinished(tg, opts.Pid, finished, &err) }()
	// The target's binary, opened once, already carries the load bias, so
	// the functions matched here have run-time addresses. A pattern that
	// matches nothing ends the trace before the program runs an instruction.
	bi := tg.BinInfo()
	d, err := bi.DWARF()
	if err != nil {
		return sum, fmt.Errorf("%s: %w", bi.Path(), err)
	}
	funcs, insts, err := matchAll(bi, opts.Regexp)
	if err != nil {
		return sum, err
	}
	if err := checkCondScope(bi, funcs, opts.Cond); err != nil {
		return sum, err
	}
	sum.Funcs = countFuncs(funcs, insts)
	types := godwarf.New(d)
	needs := Needs{Values: true, Stack: opts.Stack}
	if n, ok := sink.(interface{ Needs() Needs }); ok {
		needs = n.Needs()
		needs.Stack = opts.Stack
	}
	np, ok := tg.Process().(nonstop.Prober)
	if !ok {
		return sum, errors.New("ptrace tracing needs the native backend")
	}
	pt, err := nonstop.NewWithInlined(tg, np, bi, types, funcs, insts, opts.Depth, needs)
	if err != nil {
		return sum, err
	}
	if opts.Cond != "" {
		if err := pt.SetCondition(opts.Cond); err != nil {
			return sum, err
		}
		sum.Cond = true
		defer func() { sum.Filtered, sum.CondFaults = pt.CondCounts() }()
	}
	sum.Probes = pt.Probes()
	res, err := pt.Run(ctx, func(ev *Event) error {
		if opts.observe != nil {
			opts.observe(ev)
		}
		return writeErr(sink.Event(render(ev)))
	})
	sum.Events = pt.Events()
	sum.Cost = ptraceCost(pt.Stopped())
	if err != nil {
		if errors.Is(err, proc.ErrProcessExited) {
			finished = true
		}
		return sum, err
	}
	sum.Interrupted = res.Interrupted
	if !res.Interrupted {
		finished = true
		sum.Exited = true
		sum.ExitCode, sum.Signal = res.Stop.ExitCode, res.Stop.Signal
	}
	return sum, nil
}

// WriteError is a sink's failure to write the trace (a full disk, a closed
// pipe): it ends the trace.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "writing the trace: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// writeErr wraps a sink's error as a WriteError.
func writeErr(err error) error {
	if err == nil {
		return nil // before we, whose address escapes: this runs per event
	}
	var we *WriteError
	if errors.As(err, &we) {
		return err
	}
	return &WriteError{Err: err}
}

// errNoFuncs is wrapped when the regular expression matches nothing.
var errNoFuncs = errors.New("no function matches")

// leaveUnfinished ends a target whose end the trace did not see: a process
// it attached to is detached and runs on, one it started is killed. The
// first error is kept in *err.
func leaveUnfinished(tg *proc.Target, pid int, finished bool, err *error) {
	if finished {
		return
	}
	var end error
	if pid != 0 {
		end = tg.Detach()
	} else {
		end = tg.Kill()
	}
	if *err == nil && end != nil {
		*err = end
	}
}

// start launches or attaches the target with the native backend, stopped.
func start(opts Options) (*proc.Target, error) {
	if opts.Pid != 0 {
		return proc.Attach(native.Backend{}, opts.Pid)
	}
	return proc.Launch(native.Backend{}, opts.Exec, opts.Args, proc.LaunchConfig{
		Dir: opts.Dir, Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr,
	})
}

// plural writes a count with its noun, "1 function" or "2 functions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
