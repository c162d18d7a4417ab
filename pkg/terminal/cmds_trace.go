package terminal

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tinydbg/tinydbg/service/api"
)

func traceCommands() []*command {
	return []*command{
		{names: []string{"trace", "t"}, group: groupBreak, fn: traceCmd,
			help: `Set tracepoint.

	trace [name] [locspec]

A tracepoint reports each hit (goroutine, function and arguments) and lets the
program run on instead of stopping it. On a function, the function's returns
are traced too and report its results. Locspecs are those of break; without
one the tracepoint goes on the current line. "on" and "condition" apply to
tracepoints as to breakpoints.`},
	}
}

func traceCmd(t *Term, ctx callCtx, args string) error {
	made, err := createPoints(t, ctx, args, true, true)
	if err != nil || !isFunctionSpec(tracedSpec(args, made)) {
		return err
	}
	for _, bp := range made {
		if bp.FunctionName == "" {
			continue
		}
		addrs, err := t.client.FunctionReturnLocations(bp.FunctionName)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			cfg := shortLoad
			// Like Delve's terminal: an unnamed, unannounced breakpoint
			// per RET, which the listing shows as a plain breakpoint.
			if _, err := t.client.CreateBreakpoint(&api.Breakpoint{Addr: a, TraceReturn: true, Line: -1, LoadArgs: &cfg}, ""); err != nil {
				return fmt.Errorf("tracing the returns of %s: %w", bp.FunctionName, err)
			}
		}
	}
	return nil
}

// tracedSpec is the locspec part of "trace [name] [locspec]".
func tracedSpec(args string, made []*api.Breakpoint) string {
	if first, rest := splitWord(args); rest != "" && len(made) > 0 && made[0].Name == first {
		return rest
	}
	return args
}

// isFunctionSpec reports whether spec names whole functions (main.add,
// or a /regexp/), the locspecs whose returns Delve traces as well; a line,
// an offset, a function with a line offset or an address does not.
func isFunctionSpec(spec string) bool {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return false
	}
	if strings.HasPrefix(spec, "/") && strings.HasSuffix(spec, "/") && len(spec) > 1 {
		return true
	}
	switch spec[0] {
	case '*', '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return false
	}
	return !strings.Contains(spec, ":")
}

// printTracepoint prints a tracepoint hit on one line:
// "> goroutine(1): main.add(3, 4)" at an entry, and
// ">> goroutine(1): main.add => (7)" at a return.
func printTracepoint(t *Term, th *api.Thread) {
	if t.set.traceTime {
		fmt.Fprintf(t.out, "%s ", time.Now().Format(time.RFC3339Nano))
	}
	bp := th.Breakpoint
	var args []string
	hasResults := false
	if th.BreakpointInfo != nil && bp.LoadArgs != nil && *bp.LoadArgs == shortLoad {
		for i := range th.BreakpointInfo.Arguments {
			a := &th.BreakpointInfo.Arguments[i]
			if a.Flags&api.VariableArgument != 0 {
				args = append(args, a.SinglelineString())
			}
			if a.Flags&api.VariableReturnArgument != 0 {
				hasResults = true
			}
		}
	}
	name := ""
	if bp.Name != "" {
		name = "[" + bp.Name + "] "
	}
	if bp.Tracepoint {
		fmt.Fprintf(t.out, "> goroutine(%d): %s%s(%s)\n", th.GoroutineID, name, th.Function.Name(), strings.Join(args, ", "))
		printTraceInfo(t, th, !hasResults)
	}
	if bp.TraceReturn {
		results := make([]string, 0, len(th.ReturnValues))
		for i := range th.ReturnValues {
			results = append(results, th.ReturnValues[i].SinglelineString())
		}
		fmt.Fprintf(t.out, ">> goroutine(%d): %s => (%s)\n", th.GoroutineID, th.Function.Name(), strings.Join(results, ","))
	}
}

// printTraceInfo prints what "on" asked a tracepoint to collect. Delve
// separates it from the entry line by an empty line unless the function
// returns nothing; tinydbg keeps that layout so outputs compare equal.
func printTraceInfo(t *Term, th *api.Thread, newlineDone bool) {
	info := th.BreakpointInfo
	if info == nil {
		return
	}
	sep := func() {
		if !newlineDone {
			fmt.Fprintln(t.out)
			newlineDone = true
		}
	}
	if info.Goroutine != nil {
		sep()
		writeGoroutineLong(t, info.Goroutine, "\t")
	}
	for i := range info.Variables {
		sep()
		v := &info.Variables[i]
		fmt.Fprintf(t.out, "\t%s: %s\n", v.Name, v.MultilineString("\t", ""))
	}
	for i := range info.Locals {
		sep()
		v := &info.Locals[i]
		fmt.Fprintf(t.out, "\t%s: %s\n", v.Name, v.SinglelineString())
	}
	if info.Stacktrace != nil {
		sep()
		fmt.Fprintln(t.out, "\tStack:")
		printStack(t, info.Stacktrace, "\t\t", false)
	}
}

// errTraceArgs refuses "on <bp> trace <something>".
var errTraceArgs = errors.New("too many arguments to trace")

// kernelTracer is what kernel tracepoints need of a client; rpc2's client
// has it. A plain tracepoint (no condition, collecting its arguments and
// "on N print" values only) is then captured by a uprobe and the program
// never stops for it: its hits are fetched while it runs and printed as a
// tracepoint stop is.
type kernelTracer interface {
	SyncKernelTracepoints() (map[int]string, error)
	KernelTraceHits(sync bool) ([]api.Thread, uint64, error)
}

// kernelTracePoll is how often hits are fetched while the target runs.
const kernelTracePoll = 100 * time.Millisecond

// kernelTraceRun prints kernel tracepoint hits while a continue runs.
type kernelTraceRun struct {
	t    *Term
	kt   kernelTracer
	mu   sync.Mutex // one fetch and print at a time, in order
	stop chan struct{}
	done chan struct{}
}

// saidWhy remembers, per terminal, the reasons already printed for a
// tracepoint that stops, so that each is said once.
var saidWhy sync.Map // *Term → map[int]string

// startKernelTraces syncs the tracepoints to the kernel before the target
// resumes and starts printing their hits; nil when the client cannot.
func startKernelTraces(t *Term) *kernelTraceRun {
	kt, ok := t.client.(kernelTracer)
	if !ok {
		return nil
	}
	why, err := kt.SyncKernelTracepoints()
	if err != nil {
		fmt.Fprintf(t.out, "tracepoints stop the program to evaluate: %v\n", err)
		return nil
	}
	v, _ := saidWhy.LoadOrStore(t, map[int]string{})
	said := v.(map[int]string)
	ids := make([]int, 0, len(why))
	for id := range why {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		if r := why[id]; said[id] != r {
			said[id] = r
			name := strconv.Itoa(id)
			if bp, err := t.client.GetBreakpoint(id); err == nil && bp.Name != "" {
				name = bp.Name
			}
			fmt.Fprintf(t.out, "tracepoint %s stops the program to evaluate: %s\n", name, r)
		}
	}
	r := &kernelTraceRun{t: t, kt: kt, stop: make(chan struct{}), done: make(chan struct{})}
	go r.poll()
	return r
}

func (r *kernelTraceRun) poll() {
	defer close(r.done)
	tick := time.NewTicker(kernelTracePoll)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			r.print(false)
		}
	}
}

// print fetches and prints the hits so far; with sync, every hit the
// program made before it stopped.
func (r *kernelTraceRun) print(sync bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	hits, lost, err := r.kt.KernelTraceHits(sync)
	if err != nil {
		return // the next fetch, or the stop, reports what matters
	}
	for i := range hits {
		printTracepoint(r.t, &hits[i])
	}
	if lost > 0 {
		fmt.Fprintf(r.t.out, "%d tracepoint hits lost\n", lost)
	}
	_ = r.t.outBuf.Flush()
}

// stopped prints what ran before the target stopped; call it before the
// stop's own lines.
func (r *kernelTraceRun) stopped() {
	if r != nil {
		r.print(true)
	}
}

// end stops printing, after the last hits.
func (r *kernelTraceRun) end() {
	if r == nil {
		return
	}
	close(r.stop)
	<-r.done
	r.print(true)
}
