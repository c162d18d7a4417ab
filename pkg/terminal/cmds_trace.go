package terminal

import (
	"errors"
	"fmt"
	"strings"
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
