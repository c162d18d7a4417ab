package terminal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/tinydbg/tinydbg/service/api"
)

// jumpClient serves jump and rebuild.
type jumpClient interface {
	// SetExecutionPoint moves the current thread's PC within its function.
	SetExecutionPoint(addr uint64) (*api.DebuggerState, error)
	// Rebuild builds the program again and restarts it.
	Rebuild() ([]api.DiscardedBreakpoint, error)
}

func jumpCommands() []*command {
	return []*command{
		{names: []string{"jump", "j"}, group: groupRun, fn: jumpCmd,
			help: `Move the PC to another place in the current function (experimental).

	jump <locspec>

The code between the current position and the location does not run (what
IDEs call "set next statement"). The location must be in the function the
current thread is in.

This is unsafe: the compiler orders and initialises things behind the
source's back even in -N -l builds, so skipped code may leave variables and
registers that later code relies on unset.`},
		{names: []string{"rebuild"}, group: groupRun, fn: rebuildCmd,
			help: "Build the program again and restart it, breakpoints kept.\n\n\trebuild\n\nOnly for sessions started by tinydbg debug or tinydbg test, which know how the program was built."},
		{names: []string{"edit", "ed"}, group: groupOther, allowed: scopePrefix, fn: editCmd,
			help: "Open the source in $DELVE_EDITOR, else $EDITOR.\n\n\tedit [locspec]\n\nWithout a locspec the editor opens the current file at the current line (of the selected frame); with one, the file and line of that location."},
	}
}

func jumpCmd(t *Term, ctx callCtx, args string) error {
	if args == "" {
		return errors.New("jump requires a location")
	}
	locs, err := t.client.FindLocation(ctx.scope, args)
	if err != nil {
		return err
	}
	if len(locs) != 1 {
		return errors.New("can not jump to a location that resolves to multiple addresses")
	}
	st, err := t.client.SetExecutionPoint(locs[0].PC)
	if err != nil {
		return err
	}
	t.frame = 0
	printContext(t, st)
	t.printPos(st.CurrentThread, false)
	return nil
}

func rebuildCmd(t *Term, ctx callCtx, args string) error {
	if args != "" {
		return errors.New("rebuild does not take arguments")
	}
	discarded, err := t.client.Rebuild()
	if err != nil {
		return err
	}
	t.frame = 0
	for _, d := range discarded {
		fmt.Fprintf(t.out, "Discarded %s at %s: %s\n", bpName(d.Breakpoint, false), bpLocation(d.Breakpoint), d.Reason)
	}
	return nil
}

// editCmd opens the current position (of the frame a prefix selects), or
// a location, in the user's editor, with the arguments Delve gives the
// editors it knows (VS Code, Zed and Helix take file:line; others +line file).
func editCmd(t *Term, ctx callCtx, args string) error {
	file, line, err := editPosition(t, ctx, args)
	if err != nil {
		return err
	}
	editor := os.Getenv("DELVE_EDITOR")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	words := strings.Fields(editor)
	if len(words) == 0 {
		return errors.New("Neither DELVE_EDITOR or EDITOR is set")
	}
	var pos []string
	switch words[0] {
	case "code":
		pos = []string{"--goto", fmt.Sprintf("%s:%d", file, line)}
	case "zed":
		pos = []string{fmt.Sprintf("%s:%d:0", file, line)}
	case "hx":
		pos = []string{fmt.Sprintf("%s:%d", file, line)}
	default:
		pos = []string{fmt.Sprintf("+%d", line), file}
	}
	// The editor owns the terminal until it exits: what the REPL printed
	// so far goes out first.
	_ = t.outBuf.Flush()
	cmd := exec.Command(words[0], append(words[1:], pos...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running %s: %w", words[0], err)
	}
	return nil
}

func editPosition(t *Term, ctx callCtx, args string) (string, int, error) {
	if args != "" {
		locs, err := t.client.FindLocation(ctx.scope, args)
		if err != nil {
			return "", 0, err
		}
		if len(locs) != 1 {
			return "", 0, fmt.Errorf("location %q is ambiguous: it matches %d places", args, len(locs))
		}
		return locs[0].File, locs[0].Line, nil
	}
	if ctx.prefix == scopePrefix || t.frame != 0 {
		frames, err := t.client.StacktraceFrom(ctx.scope.GoroutineID, ctx.scope.Frame, ctx.scope.Frame, 0, nil)
		if err != nil {
			return "", 0, err
		}
		if len(frames) == 0 {
			return "", 0, fmt.Errorf("Frame %d does not exist in goroutine %d", ctx.scope.Frame, ctx.scope.GoroutineID)
		}
		return frames[0].File, frames[0].Line, nil
	}
	st, err := t.client.GetState()
	if err != nil {
		return "", 0, err
	}
	if g := st.SelectedGoroutine; g != nil {
		return g.CurrentLoc.File, g.CurrentLoc.Line, nil
	}
	if st.CurrentThread == nil {
		return "", 0, errors.New("no current position")
	}
	return st.CurrentThread.File, st.CurrentThread.Line, nil
}
