package terminal

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tinydbg/tinydbg/internal/editdist"
	"github.com/tinydbg/tinydbg/service/api"
)

// prefix says how a command was reached, which changes what some
// commands do: under "on" they configure a breakpoint instead of running.
type prefix uint8

const (
	noPrefix prefix = 1 << iota
	scopePrefix
	onPrefix
	deferredPrefix
)

// callCtx is what a command runs with.
type callCtx struct {
	scope  api.EvalScope
	prefix prefix
	bp     *api.Breakpoint // the breakpoint being configured under "on"
}

type cmdFunc func(t *Term, ctx callCtx, args string) error

type command struct {
	names   []string
	group   string
	allowed prefix // prefixes besides noPrefix that the command accepts
	fn      cmdFunc
	help    string
	builtin int // how many of names are the command's own; the rest are configured aliases
}

// Command groups, in the order help lists them.
const (
	groupRun        = "Running the program"
	groupBreak      = "Manipulating breakpoints"
	groupData       = "Viewing program variables and memory"
	groupGoroutines = "Listing and switching between threads and goroutines"
	groupStack      = "Viewing the call stack and selecting frames"
	groupOther      = "Other commands"
)

var groupOrder = []string{groupRun, groupBreak, groupData, groupGoroutines, groupStack, groupOther}

// commandTable gathers the commands defined in the per-group files.
func (t *Term) commandTable() []*command {
	var all []*command
	all = append(all, runCommands()...)
	all = append(all, callCommands()...)
	all = append(all, breakCommands()...)
	all = append(all, traceCommands()...)
	all = append(all, dataCommands()...)
	all = append(all, goroutineCommands()...)
	all = append(all, stackCommands()...)
	all = append(all, sourceCommands()...)
	all = append(all, infoCommands()...)
	all = append(all, dumpCommands()...)
	all = append(all, jumpCommands()...)
	all = append(all, targetCommands()...)
	all = append(all, &command{names: []string{"help", "h"}, group: groupOther, fn: helpCmd,
		help: "Prints the help message.\n\n\thelp [command]\n\nType \"help\" followed by the name of a command for more information about it."})
	return all
}

func (t *Term) find(name string) *command {
	for _, c := range t.cmds {
		for _, n := range c.names {
			if n == name {
				return c
			}
		}
	}
	return nil
}

// Call executes one command line.
func (t *Term) Call(line string) error {
	defer t.outBuf.Flush()
	name, _ := splitWord(line)
	if c := t.find(name); c != nil && pagedCommands[c.names[0]] {
		if p := t.pagerNow(); p != nil {
			// The whole output is held, so that it can go to the pager
			// if it turns out longer than the window.
			t.outBuf.hold(true)
			defer func() {
				if out := t.outBuf.hold(false); !p.page(t, out) {
					t.outBuf.release(out)
				}
			}()
		}
	}
	return t.callWith(line, callCtx{scope: t.scope(), prefix: noPrefix})
}

func (t *Term) callWith(line string, ctx callCtx) error {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil
	}
	name, args := splitWord(line)
	c := t.find(name)
	if c == nil {
		return unknownCommand(t, name)
	}
	if ctx.prefix != noPrefix && c.allowed&ctx.prefix == 0 {
		if ctx.prefix == onPrefix {
			return fmt.Errorf("%s can not be used with on", name)
		}
		if ctx.prefix == deferredPrefix {
			return errors.New("command not available") // Delve's words
		}
		return fmt.Errorf("%s can not be prefixed by goroutine or frame", name)
	}
	return c.fn(t, ctx, args)
}

// splitWord splits off the first space-separated word.
func splitWord(s string) (string, string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], strings.TrimSpace(s[i+1:])
	}
	return s, ""
}

// unknownCommand names the closest known command, since a typo is the
// usual reason a command is unknown: a unique-enough prefix ("brea") or a
// name one edit away (two for longer names) counts as close.
func unknownCommand(t *Term, name string) error {
	limit := 1
	if len(name) > 5 {
		limit = 2
	}
	best, bestDist := "", limit+1
	for _, c := range t.cmds {
		for _, n := range c.names {
			d := editdist.Distance(name, n)
			if len(name) >= 3 && strings.HasPrefix(n, name) {
				d = 1
			}
			if d < bestDist || (d == bestDist && best != "" && len(n) < len(best)) {
				best, bestDist = n, d
			}
		}
	}
	if best == "" {
		return fmt.Errorf("command %q not available, type 'help' for a list of commands", name)
	}
	return fmt.Errorf("command %q not available, did you mean %q?", name, best)
}

func helpCmd(t *Term, ctx callCtx, args string) error {
	if args != "" {
		c := t.find(args)
		if c == nil {
			return unknownCommand(t, args)
		}
		fmt.Fprintln(t.out, c.help)
		if len(c.names) > 1 {
			fmt.Fprintf(t.out, "\nAliases: %s\n", strings.Join(c.names[1:], ", "))
		}
		return nil
	}
	fmt.Fprintln(t.out, "The following commands are available:")
	for _, g := range groupOrder {
		var cs []*command
		for _, c := range t.cmds {
			if c.group == g {
				cs = append(cs, c)
			}
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].names[0] < cs[j].names[0] })
		fmt.Fprintf(t.out, "\n%s:\n", g)
		w := tabwriter.NewWriter(t.out, 0, 8, 0, '-', 0)
		for _, c := range cs {
			summary, _, _ := strings.Cut(c.help, "\n")
			name := c.names[0]
			if len(c.names) > 1 {
				name += " (alias: " + strings.Join(c.names[1:], " | ") + ")"
			}
			fmt.Fprintf(w, "    %s \t %s\n", name, summary)
		}
		w.Flush()
	}
	fmt.Fprintln(t.out, "\nType help followed by a command for full documentation.")
	return nil
}

// runInGoroutine and runInFrame are the "goroutine N cmd" and "frame M cmd" prefixes: they
// run one command in another scope without changing the selection.
func runInGoroutine(t *Term, ctx callCtx, gid int64, rest string) error {
	ctx.scope.GoroutineID = gid
	ctx.prefix = scopePrefix
	return t.callWith(rest, ctx)
}

func runInFrame(t *Term, ctx callCtx, frame int, rest string) error {
	ctx.scope.Frame = frame
	ctx.prefix = scopePrefix
	return t.callWith(rest, ctx)
}

// parseInt parses a decimal argument, naming what was expected on error.
func parseInt(what, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s must be a number, not %q", what, s)
	}
	return n, nil
}

var errNotEnoughArgs = errors.New("not enough arguments")
