package terminal

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

func runCommands() []*command {
	return []*command{
		{names: []string{"continue", "c"}, group: groupRun, fn: continueCmd,
			help: "Run until breakpoint or program termination.\n\n\tcontinue [<locspec>]\n\nWith a location, a temporary breakpoint is set there and cleared once the program stops."},
		{names: []string{"next", "n"}, group: groupRun, allowed: scopePrefix, fn: nextCmd,
			help: "Step over to next source line.\n\n\tnext [count]\n\nOptional [count] repeats the step that many times."},
		{names: []string{"step", "s"}, group: groupRun, allowed: scopePrefix, fn: stepCmd,
			help: "Single step through program."},
		{names: []string{"stepout", "so"}, group: groupRun, allowed: scopePrefix, fn: stepOutCmd,
			help: "Step out of the current function."},
		{names: []string{"step-instruction", "si", "stepi"}, group: groupRun, allowed: scopePrefix, fn: stepInstructionCmd,
			help: "Single step a single cpu instruction."},
		{names: []string{"next-instruction", "ni", "nexti"}, group: groupRun, allowed: scopePrefix, fn: nextInstructionCmd,
			help: "Single step a single cpu instruction, skipping function calls."},
		{names: []string{"restart", "r"}, group: groupRun, fn: restartCmd,
			help: "Restart process.\n\n\trestart\n\nThe process is killed and started again with the same arguments; breakpoints are kept."},
		{names: []string{"exit", "quit", "q"}, group: groupOther, fn: exitCmd,
			help: "Exit the debugger.\n\n\texit [-c]\n\nWhen connected to a headless instance started with --accept-multiclient, -c leaves the target running."},
	}
}

// errNotTopFrame refuses stepping while a caller's frame is selected, since
// stepping always starts from the innermost frame.
var errNotTopFrame = errors.New("not on topmost frame")

// exitedError turns a stop caused by the end of the process into the
// error the user is shown.
func exitedError(st *api.DebuggerState, err error) (*api.DebuggerState, error) {
	if err == nil && st != nil && st.Exited {
		return nil, fmt.Errorf("Process %d has exited with status %d", st.Pid, st.ExitStatus)
	}
	return st, err
}

// switchForScope selects the goroutine named by a "goroutine N" prefix
// before a stepping command, which always steps the selected goroutine.
func switchForScope(t *Term, ctx callCtx) error {
	if ctx.scope.GoroutineID > 0 {
		if _, err := t.client.SwitchGoroutine(ctx.scope.GoroutineID); err != nil {
			return err
		}
	}
	return nil
}

func continueCmd(t *Term, ctx callCtx, args string) error {
	if args != "" {
		bps, err := setBreakpoint(t, ctx, args, false)
		if err != nil && !strings.Contains(err.Error(), "exists") {
			return err
		}
		defer func() {
			for _, bp := range bps {
				if _, err := t.client.ClearBreakpoint(bp.ID); err != nil {
					fmt.Fprintf(t.errOut, "failed to clear temporary breakpoint %d: %v\n", bp.ID, err)
				}
			}
		}()
	}
	t.frame = 0
	last, err := continueToStop(t)
	if err != nil {
		return err
	}
	t.printPos(last.CurrentThread, false)
	t.afterStop()
	return nil
}

// continueToStop resumes the target and prints each stop until a real
// one: a tracepoint stop is reported and the target resumed at once, as
// Delve's client does. The end of the process is an error, in Delve's words.
func continueToStop(t *Term) (*api.DebuggerState, error) {
	t.setRunning(true)
	defer t.setRunning(false)
	kt := startKernelTraces(t) // cmds_trace.go
	defer kt.end()
	var last *api.DebuggerState
	for last == nil || rpc2.TracepointStop(last) {
		if last != nil {
			// The target runs on: its hits show as they happen, in order
			// with what the program itself prints.
			_ = t.outBuf.Flush()
		}
		st, err := t.client.Continue()
		kt.stopped()
		if err != nil {
			t.setRunning(false)
			printContextNow(t)
			return nil, err
		}
		if st.Exited {
			return nil, fmt.Errorf("Process %d has exited with status %d", st.Pid, st.ExitStatus)
		}
		printContext(t, st)
		last = st
	}
	return last, nil
}

// finishStep prints where a step ended. When a breakpoint of another
// goroutine interrupted it, the step is still in progress and, as in
// Delve's terminal, the user chooses: continue it (and be asked again at
// the next such breakpoint), stop here and cancel it, or finish it
// skipping every breakpoint on the way.
func finishStep(t *Term, st *api.DebuggerState, op string, showSource bool) (done bool, err error) {
	defer t.afterStop()
	skip, continued := false, false
	for st.NextInProgress {
		fmt.Fprintf(t.out, "\tbreakpoint hit during %s", op)
		if skip {
			fmt.Fprintln(t.out, ", continuing...")
		} else {
			fmt.Fprintln(t.out)
			switch t.askNextChoice(op) {
			case "f":
				skip = true
				fallthrough
			case "c":
				fmt.Fprintln(t.out, "continuing...")
			default: // "s", or no answer
				if err := t.client.CancelNext(); err != nil {
					return false, err
				}
				t.printPos(st.CurrentThread, false)
				return false, nil
			}
		}
		next, err := continueToStop(t)
		if err != nil {
			return false, err
		}
		st, continued = next, true
	}
	if showSource || continued {
		// Delve lists the source where a continued step ends even in
		// the middle of "next N".
		t.printPos(st.CurrentThread, op == "step-instruction" || op == "next-instruction")
	}
	return true, nil
}

// askNextChoice asks Delve's question until it gets one of its answers;
// scripts answer on their next line, and end of input stops the step.
func (t *Term) askNextChoice(op string) string {
	q := fmt.Sprintf("[c] continue [s] stop here and cancel %s, [f] finish %s skipping all breakpoints? ", op, op)
	for {
		if t.line == nil {
			fmt.Fprint(t.out, q)
		}
		s, err := t.readLine(q)
		if t.line == nil {
			fmt.Fprintln(t.out) // the script's answer is not echoed
		}
		if err != nil {
			return ""
		}
		switch a := strings.ToLower(strings.TrimSpace(s)); a {
		case "c", "s", "f":
			return a
		}
	}
}

// stepOnce runs one stepping command after the checks every stepping
// command makes.
func stepOnce(t *Term, ctx callCtx, fn func() (*api.DebuggerState, error)) (*api.DebuggerState, error) {
	if err := switchForScope(t, ctx); err != nil {
		return nil, err
	}
	if t.frame != 0 {
		return nil, errNotTopFrame
	}
	t.setRunning(true)
	st, err := exitedError(fn())
	t.setRunning(false)
	if err != nil {
		printContextNow(t)
		return nil, err
	}
	return st, nil
}

func stepWith(t *Term, ctx callCtx, op string, fn func() (*api.DebuggerState, error)) error {
	st, err := stepOnce(t, ctx, fn)
	if err != nil {
		return err
	}
	printContext(t, st)
	_, err = finishStep(t, st, op, true)
	return err
}

func nextCmd(t *Term, ctx callCtx, args string) error {
	count := 1
	if args != "" {
		n, err := strconv.Atoi(args)
		if err != nil || n <= 0 {
			return errors.New("Invalid next count")
		}
		count = n
	}
	// As in Delve, only the last next says where it stopped; an earlier
	// one that a breakpoint interrupted asks first, and the count goes on
	// once it is finished (not when it was cancelled).
	for i := 1; i < count; i++ {
		st, err := stepOnce(t, ctx, t.client.Next)
		if err != nil {
			return err
		}
		if !st.NextInProgress {
			continue
		}
		printContext(t, st)
		if done, err := finishStep(t, st, "next", false); err != nil || !done {
			return err
		}
	}
	return stepWith(t, ctx, "next", t.client.Next)
}

func stepCmd(t *Term, ctx callCtx, args string) error {
	return stepWith(t, ctx, "step", t.client.Step)
}

func stepOutCmd(t *Term, ctx callCtx, args string) error {
	return stepWith(t, ctx, "stepout", t.client.StepOut)
}

func stepInstructionCmd(t *Term, ctx callCtx, args string) error {
	return stepWith(t, ctx, "step-instruction", func() (*api.DebuggerState, error) { return t.client.StepInstruction(false) })
}

func nextInstructionCmd(t *Term, ctx callCtx, args string) error {
	return stepWith(t, ctx, "next-instruction", func() (*api.DebuggerState, error) { return t.client.StepInstruction(true) })
}

func restartCmd(t *Term, ctx callCtx, args string) error {
	if args != "" {
		return errors.New("restart does not take arguments: the program restarts with its original ones")
	}
	discarded, err := t.client.Restart(false, nil)
	if err != nil {
		return err
	}
	for _, d := range discarded {
		fmt.Fprintf(t.out, "Discarded %s at %s: %s\n", bpName(d.Breakpoint, false), bpLocation(d.Breakpoint), d.Reason)
	}
	t.frame = 0
	pid, _ := t.client.ProcessPid()
	// A new process, which its first stop need not call a switch.
	t.oldPid = pid
	fmt.Fprintln(t.out, "Process restarted with PID", pid)
	return nil
}

func exitCmd(t *Term, ctx callCtx, args string) error {
	switch args {
	case "":
		return ErrExit
	case "-c":
		if multi, _ := t.client.IsMulticlient(); !multi {
			return errors.New("not connected to an --accept-multiclient server")
		}
		if err := t.disconnect(true); err != nil {
			return err
		}
		return errExitNow
	}
	return fmt.Errorf("unknown option %q to exit", args)
}

// errExitNow ends the session without the usual questions and cleanup,
// because the server was already told what to do.
var errExitNow = fmt.Errorf("%w (disconnected)", ErrExit)

// printContextNow prints the current position, if there is one, after a
// command failed part way.
func printContextNow(t *Term) {
	st, err := t.client.GetState()
	if err != nil || st == nil || st.CurrentThread == nil {
		return
	}
	printContext(t, st)
}

// printContext prints the "> func() file:line" banner for the stop: first
// for other threads sitting on breakpoints, then for the selected one.
func printContext(t *Term, st *api.DebuggerState) {
	if st.Pid != t.oldPid {
		if t.oldPid != 0 {
			fmt.Fprintf(t.out, "Switch target process from %d to %d (%s)\n", t.oldPid, st.Pid, st.TargetCommandLine)
		}
		t.oldPid = st.Pid
	}
	for _, th := range st.Threads {
		if st.CurrentThread != nil && th.ID == st.CurrentThread.ID {
			continue
		}
		if th.Breakpoint != nil {
			printThreadContext(t, th)
		}
	}
	if st.CurrentThread == nil {
		fmt.Fprintln(t.out, "No current thread available")
		return
	}
	th := st.CurrentThread
	if st.SelectedGoroutine != nil && st.SelectedGoroutine.ThreadID != th.ID {
		th = nil
		for _, o := range st.Threads {
			if o.ID == st.SelectedGoroutine.ThreadID {
				th = o
			}
		}
		if th == nil {
			loc := st.SelectedGoroutine.CurrentLoc
			printLocation(t, loc.Function, loc.File, loc.Line, loc.PC)
			return
		}
	}
	if th.File == "" {
		fmt.Fprintf(t.out, "Stopped at: %#x\n", th.PC)
		fmt.Fprintln(t.out, "=>   1:\tno source available")
		return
	}
	printThreadContext(t, th)
	if st.When != "" {
		fmt.Fprintln(t.out, st.When)
	}
	for _, wp := range st.WatchOutOfScope {
		fmt.Fprintf(t.out, "%s went out of scope and was cleared\n", bpName(wp, true))
	}
}

func printLocation(t *Term, fn *api.Function, file string, line int, pc uint64) {
	fmt.Fprintf(t.out, "> %s() %s:%d (PC: %#x)\n", fn.Name(), formatPath(file), line, pc)
	if fn != nil && fn.Optimized {
		fmt.Fprintln(t.out, optimizedWarning)
	}
}

const optimizedWarning = "Warning: debugging optimized function"

func printThreadContext(t *Term, th *api.Thread) {
	bp := th.Breakpoint
	if bp == nil {
		printLocation(t, th.Function, th.File, th.Line, th.PC)
		printReturnValues(t, th)
		return
	}
	if bp.Tracepoint || bp.TraceReturn {
		printTracepoint(t, th)
		return
	}
	var args []string
	if th.BreakpointInfo != nil && bp.LoadArgs != nil && *bp.LoadArgs == shortLoad {
		for i := range th.BreakpointInfo.Arguments {
			a := &th.BreakpointInfo.Arguments[i]
			if a.Flags&api.VariableArgument != 0 {
				args = append(args, a.SinglelineString())
			}
		}
	}
	name := ""
	switch {
	case bp.WatchExpr != "":
		name = fmt.Sprintf("watchpoint on [%s] ", bp.WatchExpr)
	case bp.Name != "":
		name = fmt.Sprintf("[%s] ", bp.Name)
	case !bp.Tracepoint:
		name = fmt.Sprintf("[Breakpoint %d] ", bp.ID)
	}
	hits := fmt.Sprintf("hits total:%d", bp.TotalHitCount)
	if n, ok := bp.HitCount[strconv.FormatInt(th.GoroutineID, 10)]; ok {
		hits = fmt.Sprintf("hits goroutine(%d):%d total:%d", th.GoroutineID, n, bp.TotalHitCount)
	}
	fmt.Fprintf(t.out, "> %s%s(%s) %s:%d (%s) (PC: %#x)\n", name, th.Function.Name(), strings.Join(args, ", "),
		formatPath(th.File), th.Line, hits, th.PC)
	if th.Function != nil && th.Function.Optimized {
		fmt.Fprintln(t.out, optimizedWarning)
	}
	if th.WatchOld != nil && th.WatchNew != nil {
		// Not in Delve, which shows neither: what the access did.
		fmt.Fprintf(t.out, "\told value: %s\n\tnew value: %s\n", th.WatchOld.SinglelineString(), th.WatchNew.SinglelineString())
	}
	printReturnValues(t, th)
	printBreakpointInfo(t, th)
}

func printReturnValues(t *Term, th *api.Thread) {
	if th.ReturnValues == nil {
		return
	}
	fmt.Fprintln(t.out, "Values returned:")
	for i := range th.ReturnValues {
		v := &th.ReturnValues[i]
		fmt.Fprintf(t.out, "\t%s: %s\n", v.Name, v.MultilineString("\t", ""))
	}
	fmt.Fprintln(t.out)
}

// printBreakpointInfo prints what an "on" command asked the breakpoint to collect.
func printBreakpointInfo(t *Term, th *api.Thread) {
	info := th.BreakpointInfo
	if info == nil {
		return
	}
	if info.Goroutine != nil {
		writeGoroutineLong(t, info.Goroutine, "\t")
	}
	for i := range info.Variables {
		v := &info.Variables[i]
		fmt.Fprintf(t.out, "\t%s: %s\n", v.Name, v.MultilineString("\t", ""))
	}
	for i := range info.Locals {
		v := &info.Locals[i]
		fmt.Fprintf(t.out, "\t%s: %s\n", v.Name, v.SinglelineString())
	}
	if info.Stacktrace != nil {
		fmt.Fprintln(t.out, "\tStack:")
		printStack(t, info.Stacktrace, "\t\t", false)
	}
}

// afterStop runs what the user asked to see at every stop.
func (t *Term) afterStop() {
	for i, expr := range t.display {
		if expr == "" {
			continue
		}
		verb, e := splitVerb(expr)
		v, err := t.client.Eval(api.EvalScope{GoroutineID: -1}, e, shortLoad)
		if err != nil {
			if strings.Contains(err.Error(), "exited") {
				return
			}
			fmt.Fprintf(t.out, "%d: %s = error %v\n", i, e, err)
			continue
		}
		fmt.Fprintf(t.out, "%d: %s = %s\n", i, v.Name, v.StringWithOptions("", verb, t.rawFlag()))
	}
}
