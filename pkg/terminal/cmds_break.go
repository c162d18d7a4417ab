package terminal

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tinydbg/tinydbg/service/api"
)

func breakCommands() []*command {
	return []*command{
		{names: []string{"break", "b"}, group: groupBreak, fn: breakCmd,
			help: `Sets a breakpoint.

	break [name] [locspec] [if <condition>]

Locspecs: a function (main.add), file:line (main.go:14), a line of the current
file (14), an offset from the current line (+2), or an address (*0x4a1b2c).
Without a locspec the breakpoint goes on the current line. The optional
condition is a boolean expression checked each time the breakpoint is hit.`},
		{names: []string{"breakpoints", "bp"}, group: groupBreak, fn: breakpointsCmd,
			help: "Print out info for active breakpoints.\n\n\tbreakpoints [-a]\n\n-a also lists the debugger's internal breakpoints."},
		{names: []string{"clear"}, group: groupBreak, fn: clearCmd,
			help: "Deletes breakpoint.\n\n\tclear <breakpoint name or id>"},
		{names: []string{"clearall"}, group: groupBreak, fn: clearAllCmd,
			help: "Deletes multiple breakpoints.\n\n\tclearall [<locspec>]\n\nWithout a locspec every breakpoint goes; with one, only those at that location."},
		{names: []string{"watch"}, group: groupBreak, fn: watchCmd,
			help: `Set watchpoint.

	watch [-r|-w|-rw] <expr>

	-r	stops when the memory location is read
	-w	stops when the memory location is written
	-rw	stops when the memory location is read or written

The memory location is given with the expression language of print: a
variable (watch -w v) or a dereferenced address (watch -w *(*int)(0x1400007c018)).
At most four watchpoints exist at once, on values of 1, 2, 4 or 8 bytes.
x86 traps reads only together with writes: -r stops on accesses that
leave the value unchanged. A watchpoint on a local variable follows its
goroutine's stack and is cleared when the variable's function returns.`},
		{names: []string{"toggle"}, group: groupBreak, fn: toggleCmd,
			help: "Toggles on or off a breakpoint.\n\n\ttoggle <breakpoint name or id>"},
		{names: []string{"condition", "cond"}, group: groupBreak, allowed: onPrefix, fn: conditionCmd,
			help: `Set breakpoint condition.

	condition <breakpoint name or id> <boolean expression>
	condition -hitcount <breakpoint name or id> <operator> <argument>
	condition -per-g-hitcount <breakpoint name or id> <operator> <argument>
	condition -clear <breakpoint name or id>

The breakpoint only stops the program when the expression is true, or when
its hit count (total, or per goroutine) satisfies the comparison.`},
		{names: []string{"on"}, group: groupBreak, fn: onCmd,
			help: `Executes a command when a breakpoint is hit.

	on <breakpoint name or id> <command>

Supported commands: print <expr>, stack [<depth>], goroutine, locals, args,
condition <expr>, trace (the breakpoint reports its hits without stopping). The result is shown each time the breakpoint stops the program.`},
	}
}

// breakpointName accepts the names "break name locspec" may give: an
// identifier that is not a number and does not look like a location.
var breakpointName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func breakCmd(t *Term, ctx callCtx, args string) error {
	_, err := setBreakpoint(t, ctx, args, true)
	return err
}

// setBreakpoint parses "[name] [locspec] [if cond]", creates one
// breakpoint per location found and reports each.
func setBreakpoint(t *Term, ctx callCtx, args string, announce bool) ([]*api.Breakpoint, error) {
	return createPoints(t, ctx, args, announce, false)
}

// createPoints is setBreakpoint for breakpoints or, with tracepoint set,
// tracepoints, which load the arguments they print at each hit.
func createPoints(t *Term, ctx callCtx, args string, announce, tracepoint bool) ([]*api.Breakpoint, error) {
	req := &api.Breakpoint{Tracepoint: tracepoint}
	if tracepoint {
		cfg := shortLoad
		req.LoadArgs = &cfg
	}
	spec := args
	if strings.HasPrefix(spec, "if ") {
		req.Cond, spec = strings.TrimSpace(spec[3:]), ""
	} else if i := strings.Index(spec, " if "); i >= 0 {
		req.Cond, spec = strings.TrimSpace(spec[i+4:]), strings.TrimSpace(spec[:i])
	}
	if first, rest := splitWord(spec); rest != "" && breakpointName.MatchString(first) {
		req.Name, spec = first, rest
	}
	if spec == "" {
		spec = "+0"
	}
	locs, err := t.client.FindLocation(ctx.scope, spec)
	if err != nil {
		return nil, err
	}
	var made []*api.Breakpoint
	for _, loc := range locs {
		r := *req
		r.Addr, r.Addrs, r.AddrPid = loc.PC, loc.PCs, loc.PCPids
		r.ExprString = ""
		if len(locs) == 1 {
			// Kept so that "breakpoints" can name a disabled breakpoint by
			// what the user typed, as Delve does.
			r.ExprString = spec
		}
		bp, err := t.client.CreateBreakpoint(&r, "")
		if err != nil {
			return made, err
		}
		made = append(made, bp)
		if announce {
			fmt.Fprintf(t.out, "%s set at %s\n", bpName(bp, true), bpLocation(bp))
			condFallbackLine(t, bp)
		}
	}
	return made, nil
}

// bpName is "Breakpoint 1", "Breakpoint name" or "Watchpoint 2 on [x]".
func bpName(bp *api.Breakpoint, upper bool) string {
	if bp == nil {
		return "breakpoint ?"
	}
	kind := "breakpoint"
	switch {
	case bp.WatchExpr != "":
		kind = "watchpoint"
	case bp.Tracepoint:
		kind = "tracepoint"
	}
	if upper {
		kind = strings.ToUpper(kind[:1]) + kind[1:]
	}
	id := bp.Name
	if id == "" {
		id = strconv.Itoa(bp.ID)
	}
	if bp.WatchExpr != "" && bp.WatchExpr != bp.Name {
		return fmt.Sprintf("%s %s on [%s]", kind, id, bp.WatchExpr)
	}
	return kind + " " + id
}

// bpLocation is "0x4a1b2c for main.add() ./main.go:14".
func bpLocation(bp *api.Breakpoint) string {
	if bp == nil {
		return "?"
	}
	var b strings.Builder
	addrs := bp.Addrs
	if len(addrs) == 0 {
		addrs = []uint64{bp.Addr}
	}
	for i, a := range addrs {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%#x", a)
	}
	if bp.WatchExpr == "" {
		b.WriteString(" for ")
		if bp.FunctionName != "" {
			b.WriteString(bp.FunctionName + "() ")
		}
		fmt.Fprintf(&b, "%s:%d", formatPath(bp.File), bp.Line)
	}
	return b.String()
}

func breakpointsCmd(t *Term, ctx callCtx, args string) error {
	switch args {
	case "", "-a": // the server lists no internal breakpoints, so -a adds none
	default:
		return fmt.Errorf("unknown option %q to breakpoints", args)
	}
	bps, err := t.client.ListBreakpoints()
	if err != nil {
		return err
	}
	sort.Slice(bps, func(i, j int) bool { return bps[i].ID < bps[j].ID })
	for _, bp := range bps {
		state := "(enabled)"
		if bp.Disabled {
			state = "(disabled)"
		}
		if bp.Disabled && bp.ExprString != "" {
			// A disabled breakpoint is not in the program: Delve lists it
			// by its location expression, without address or hit count.
			fmt.Fprintf(t.out, "%s %s at %s\n", bpName(bp, true), state, bp.ExprString)
		} else {
			fmt.Fprintf(t.out, "%s %s at %s (%d)\n", bpName(bp, true), state, bpLocation(bp), bp.TotalHitCount)
		}
		for _, a := range bpAttrs(bp) {
			fmt.Fprintf(t.out, "\t%s\n", a)
		}
	}
	return nil
}

// bpAttrs lists a breakpoint's condition and "on" actions, one per line.
func bpAttrs(bp *api.Breakpoint) []string {
	var out []string
	// How the condition runs goes on its first line: "(in kernel)" or
	// "(stops to evaluate: why)".
	mode := ""
	if bp.CondEval != "" {
		mode = " (" + bp.CondEval + ")"
		if bp.CondFaults > 0 {
			mode = fmt.Sprintf(" (%s, %d faults)", bp.CondEval, bp.CondFaults)
		}
	}
	if bp.Cond != "" {
		out = append(out, "cond "+bp.Cond+mode)
		mode = ""
	}
	if bp.HitCond != "" {
		flag := "-hitcount"
		if bp.HitCondPerG {
			flag = "-per-g-hitcount"
		}
		out = append(out, "cond "+flag+" "+bp.HitCond+mode)
	}
	if bp.Stacktrace > 0 {
		out = append(out, fmt.Sprintf("stack %d", bp.Stacktrace))
	}
	if bp.Goroutine {
		out = append(out, "goroutine")
	}
	if bp.LoadArgs != nil {
		out = append(out, "args")
	}
	if bp.LoadLocals != nil {
		out = append(out, "locals")
	}
	for _, v := range bp.Variables {
		out = append(out, "print "+v)
	}
	out = append(out, bp.VerboseDescr...)
	return out
}

// lookupBreakpoint finds a breakpoint by id or by name.
func lookupBreakpoint(t *Term, arg string) (*api.Breakpoint, error) {
	if id, err := strconv.Atoi(arg); err == nil {
		return t.client.GetBreakpoint(id)
	}
	return t.client.GetBreakpointByName(arg)
}

func clearCmd(t *Term, ctx callCtx, args string) error {
	if args == "" {
		return errNotEnoughArgs
	}
	var bp *api.Breakpoint
	var err error
	if id, aerr := strconv.Atoi(args); aerr == nil {
		bp, err = t.client.ClearBreakpoint(id)
	} else {
		bp, err = t.client.ClearBreakpointByName(args)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(t.out, "%s cleared at %s\n", bpName(bp, true), bpLocation(bp))
	return nil
}

func clearAllCmd(t *Term, ctx callCtx, args string) error {
	bps, err := t.client.ListBreakpoints()
	if err != nil {
		return err
	}
	var only map[uint64]bool
	if args != "" {
		locs, err := t.client.FindLocation(api.EvalScope{GoroutineID: -1}, args)
		if err != nil {
			return err
		}
		only = map[uint64]bool{}
		for _, l := range locs {
			only[l.PC] = true
			for _, pc := range l.PCs {
				only[pc] = true
			}
		}
	}
	for _, bp := range bps {
		if bp.ID < 0 || (only != nil && !only[bp.Addr]) {
			continue
		}
		if _, err := t.client.ClearBreakpoint(bp.ID); err != nil {
			fmt.Fprintf(t.out, "Couldn't delete %s at %s: %v\n", bpName(bp, false), bpLocation(bp), err)
			continue
		}
		fmt.Fprintf(t.out, "%s cleared at %s\n", bpName(bp, true), bpLocation(bp))
	}
	return nil
}

func watchCmd(t *Term, ctx callCtx, args string) error {
	flag, expr, ok := strings.Cut(args, " ")
	if !ok {
		return errors.New("wrong number of arguments: watch [-r|-w|-rw] <expr>")
	}
	var wtype api.WatchType
	switch flag {
	case "-r":
		wtype = api.WatchRead
	case "-w":
		wtype = api.WatchWrite
	case "-rw":
		wtype = api.WatchRead | api.WatchWrite
	default:
		return fmt.Errorf("wrong argument %q to watch", flag)
	}
	bp, err := t.client.CreateWatchpoint(ctx.scope, expr, wtype)
	if err != nil {
		return err
	}
	fmt.Fprintf(t.out, "%s set at %s\n", bpName(bp, true), bpLocation(bp))
	return nil
}

func toggleCmd(t *Term, ctx callCtx, args string) error {
	if args == "" {
		return errNotEnoughArgs
	}
	bp, err := lookupBreakpoint(t, args)
	if err != nil {
		return err
	}
	bp.Disabled = !bp.Disabled
	if err := t.client.AmendBreakpoint(bp); err != nil {
		return err
	}
	fmt.Fprintf(t.out, "%s toggled at %s\n", bpName(bp, true), bpLocation(bp))
	return nil
}

func conditionCmd(t *Term, ctx callCtx, args string) error {
	first, rest := splitWord(args)
	if rest == "" {
		return errNotEnoughArgs
	}
	switch first {
	case "-hitcount", "-per-g-hitcount":
		perG := first == "-per-g-hitcount"
		if ctx.prefix == onPrefix {
			ctx.bp.HitCond, ctx.bp.HitCondPerG = rest, perG
			return nil
		}
		id, cond := splitWord(rest)
		if cond == "" {
			return errNotEnoughArgs
		}
		bp, err := lookupBreakpoint(t, id)
		if err != nil {
			return err
		}
		bp.HitCond, bp.HitCondPerG = cond, perG
		return amendCond(t, bp)
	case "-clear":
		bp, err := lookupBreakpoint(t, rest)
		if err != nil {
			return err
		}
		bp.Cond = ""
		return t.client.AmendBreakpoint(bp)
	}
	if ctx.prefix == onPrefix {
		ctx.bp.Cond = args
		return nil
	}
	bp, err := lookupBreakpoint(t, first)
	if err != nil {
		return err
	}
	bp.Cond = rest
	return amendCond(t, bp)
}

// amendCond sends a changed condition and says, in one line, when it is
// not evaluated in the kernel although it could have been.
func amendCond(t *Term, bp *api.Breakpoint) error {
	if err := t.client.AmendBreakpoint(bp); err != nil {
		return err
	}
	if now, err := t.client.GetBreakpoint(bp.ID); err == nil {
		condFallbackLine(t, now)
	}
	return nil
}

// condFallbackLine prints why a condition stops the program at every hit
// when the machine cannot evaluate conditions in the kernel (no BPF
// permission, no uprobes). A condition that does not compile says why in
// the breakpoints listing only.
func condFallbackLine(t *Term, bp *api.Breakpoint) {
	if why, ok := strings.CutPrefix(bp.CondEval, "stops to evaluate: no eBPF: "); ok {
		fmt.Fprintf(t.out, "%s: the condition stops the program at every hit: %s\n", bpName(bp, true), why)
	}
}

// onCmd attaches an action to a breakpoint by running the action's command
// in "on" mode, where it edits the breakpoint instead of executing.
func onCmd(t *Term, ctx callCtx, args string) error {
	id, action := splitWord(args)
	if action == "" {
		return errNotEnoughArgs
	}
	bp, err := lookupBreakpoint(t, id)
	if err != nil {
		return err
	}
	name, rest := splitWord(action)
	switch name {
	case "print", "p":
		if rest == "" {
			return errNotEnoughArgs
		}
		bp.Variables = append(bp.Variables, rest)
	case "stack", "bt":
		depth := 10
		if rest != "" {
			if depth, err = parseInt("stack depth", rest); err != nil {
				return err
			}
		}
		bp.Stacktrace = depth
	case "goroutine", "gr":
		bp.Goroutine = true
	case "locals":
		cfg := shortLoad
		bp.LoadLocals = &cfg
	case "args":
		cfg := shortLoad
		bp.LoadArgs = &cfg
	case "trace", "t":
		if rest != "" {
			return errTraceArgs
		}
		bp.Tracepoint = true
	case "condition", "cond":
		if err := conditionCmd(t, callCtx{scope: ctx.scope, prefix: onPrefix, bp: bp}, rest); err != nil {
			return err
		}
	default:
		if t.find(name) == nil {
			return unknownCommand(t, name)
		}
		return errors.New(name + " can not be used with on")
	}
	return t.client.AmendBreakpoint(bp)
}
