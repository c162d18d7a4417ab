package terminal

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tinydbg/tinydbg/service/api"
)

func stackCommands() []*command {
	return []*command{
		{names: []string{"stack", "bt"}, group: groupStack, allowed: scopePrefix | onPrefix, fn: stackCmd,
			help: `Print stack trace.

	stack [<depth>] [-full] [-offsets] [-defer] [-mode normal|simple|fromg]

	-full		every frame's arguments and local variables
	-offsets	frame offset of each frame
	-defer		deferred calls of each frame
	-mode		how the stack is unwound: normal (default), simple (no
			special cases for runtime frames) or fromg (from the
			goroutine's saved registers)`},
		{names: []string{"deferred"}, group: groupStack, fn: deferredCmd,
			help: "Run a command in the scope of a deferred call.\n\n\tdeferred <n> <command>\n\nRuns print, args or locals in the scope of the n-th call the current frame deferred, numbered as stack -defer lists them."},
		{names: []string{"frame"}, group: groupStack, allowed: scopePrefix, fn: frameCmd,
			help: "Set the current frame, or execute command on a different frame.\n\n\tframe <m>\n\tframe <m> <command>\n\nThe first form selects frame m for later commands; the second runs one\ncommand in frame m without changing the selection."},
		{names: []string{"up"}, group: groupStack, allowed: scopePrefix, fn: upCmd,
			help: "Move the current frame up.\n\n\tup [<m>]\n\tup [<m>] <command>\n\nMove the current frame up by m (default 1), or run a command there."},
		{names: []string{"down"}, group: groupStack, allowed: scopePrefix, fn: downCmd,
			help: "Move the current frame down.\n\n\tdown [<m>]\n\tdown [<m>] <command>\n\nMove the current frame down by m (default 1), or run a command there."},
	}
}

// stackArgs is a parsed stack command line.
type stackArgs struct {
	depth   int
	full    bool
	offsets bool
	opts    api.StacktraceOptions
}

func parseStackArgs(args string) (stackArgs, error) {
	s := stackArgs{depth: 50}
	f := strings.Fields(args)
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case "-full":
			s.full = true
		case "-offsets":
			s.offsets = true
		case "-defer":
			s.opts |= api.StacktraceReadDefers
		case "-mode":
			i++
			if i >= len(f) {
				return s, errors.New("expected normal, simple or fromg after -mode")
			}
			switch f[i] {
			case "normal":
				s.opts &^= api.StacktraceSimple | api.StacktraceG
			case "simple":
				s.opts |= api.StacktraceSimple
			case "fromg":
				s.opts |= api.StacktraceSimple | api.StacktraceG
			default:
				return s, errors.New("expected normal, simple or fromg after -mode")
			}
		default:
			n, err := strconv.Atoi(f[i])
			if err != nil || n < 0 {
				return s, errors.New("depth must be a number")
			}
			s.depth = n
		}
	}
	return s, nil
}

func stackCmd(t *Term, ctx callCtx, args string) error {
	sa, err := parseStackArgs(args)
	if err != nil {
		return err
	}
	if ctx.prefix == onPrefix {
		ctx.bp.Stacktrace = sa.depth
		return nil
	}
	var cfg *api.LoadConfig
	if sa.full {
		c := shortLoad
		cfg = &c
	}
	frames, err := t.client.StacktraceFrom(ctx.scope.GoroutineID, sa.depth, 0, sa.opts, cfg)
	if err != nil {
		return err
	}
	printStack(t, frames, "", sa.offsets)
	return nil
}

func digits(n int) int {
	return len(strconv.Itoa(max(n, 0)))
}

// printStack prints frames as "N  0xPC in func" over "at file:line",
// numbers right-aligned, with -full variables and defers below each frame.
func printStack(t *Term, frames []api.Stackframe, indent string, offsets bool) {
	if len(frames) == 0 {
		return
	}
	spaced := offsets
	for i := range frames {
		if len(frames[i].Defers) > 0 || len(frames[i].Arguments) > 0 || len(frames[i].Locals) > 0 {
			spaced = true
		}
	}
	d := digits(len(frames) - 1)
	pad := indent + strings.Repeat(" ", d+2+len(indent))
	fnc, basec, reset := t.stackColours()
	for i := range frames {
		f := &frames[i]
		if f.Err != "" {
			fmt.Fprintf(t.out, "%serror: %s\n", pad, f.Err)
			continue
		}
		fmt.Fprintf(t.out, "%s%*d  0x%016x in %s%s%s\n", indent, d, i, f.PC, fnc, f.Function.Name(), reset)
		fmt.Fprintf(t.out, "%sat %s\n", pad, colourPath(fmt.Sprintf("%s:%d", formatPath(f.File), f.Line), basec, reset))
		if offsets {
			fmt.Fprintf(t.out, "%sframe: %+#x frame pointer %+#x\n", pad, f.FrameOffset, f.FramePointerOffset)
		}
		for j, df := range f.Defers {
			head := fmt.Sprintf("%s    defer %d: ", pad, j+1)
			cont := strings.Repeat(" ", len(head))
			if df.Unreadable != "" {
				fmt.Fprintf(t.out, "%s(unreadable defer: %s)\n", head, df.Unreadable)
				continue
			}
			fmt.Fprintf(t.out, "%s%#016x in %s%s%s\n", head, df.DeferredLoc.PC, fnc, df.DeferredLoc.Function.Name(), reset)
			fmt.Fprintf(t.out, "%sat %s:%d\n", cont, formatPath(df.DeferredLoc.File), df.DeferredLoc.Line)
			fmt.Fprintf(t.out, "%sdeferred by %s at %s\n", cont, df.DeferLoc.Function.Name(),
				colourPath(fmt.Sprintf("%s:%d", formatPath(df.DeferLoc.File), df.DeferLoc.Line), basec, reset))
		}
		for _, vs := range [][]api.Variable{f.Arguments, f.Locals} {
			for j := range vs {
				fmt.Fprintf(t.out, "%s    %s = %s\n", pad, vs[j].Name, vs[j].SinglelineString())
			}
		}
		if spaced {
			fmt.Fprintln(t.out)
		}
	}
	if !frames[len(frames)-1].Bottom {
		fmt.Fprintf(t.out, "%s(truncated)\n", indent)
	}
}

func frameCmd(t *Term, ctx callCtx, args string) error {
	return moveFrame(t, ctx, args, 0)
}

func upCmd(t *Term, ctx callCtx, args string) error {
	return moveFrame(t, ctx, args, 1)
}

func downCmd(t *Term, ctx callCtx, args string) error {
	return moveFrame(t, ctx, args, -1)
}

// moveFrame implements frame (dir 0: absolute), up (+1) and down (-1).
func moveFrame(t *Term, ctx callCtx, args string, dir int) error {
	n, rest := 1, ""
	if args == "" {
		if dir == 0 {
			return errNotEnoughArgs
		}
	} else {
		var num string
		num, rest = splitWord(args)
		var err error
		if n, err = parseInt("frame", num); err != nil {
			return err
		}
	}
	frame := n
	if dir != 0 {
		frame = t.frame + dir*n
	}
	if rest != "" {
		return runInFrame(t, ctx, frame, rest)
	}
	if frame < 0 {
		return fmt.Errorf("Invalid frame %d", frame)
	}
	frames, err := t.client.StacktraceFrom(ctx.scope.GoroutineID, frame, frame, 0, nil)
	if err != nil {
		return err
	}
	if len(frames) == 0 {
		return fmt.Errorf("Invalid frame %d", frame)
	}
	t.frame = frame
	st, err := t.client.GetState()
	if err != nil {
		return err
	}
	printContext(t, st)
	f := frames[0]
	fmt.Fprintf(t.out, "Frame %d: %s:%d (PC: %x)\n", frame, formatPath(f.File), f.Line, f.PC)
	return t.listFile(f.File, f.Line, true)
}

// deferredCmd runs print, args or locals in the scope of the n-th call
// the current frame deferred (numbered as stack -defer numbers them).
func deferredCmd(t *Term, ctx callCtx, args string) error {
	num, rest := splitWord(args)
	if rest == "" {
		return errNotEnoughArgs
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return fmt.Errorf("deferred call must be a number, not %q", num)
	}
	if n <= 0 {
		return errors.New("argument of deferred must be a number greater than 0 (use 'stack -defer' to see the list of deferred calls)")
	}
	ctx.scope.DeferredCall = n
	ctx.prefix = deferredPrefix
	return t.callWith(rest, ctx)
}
