package terminal

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// Runtime goroutine states that carry a wait reason (runtime._Gsyscall,
// runtime._Gwaiting).
const (
	gSyscall = 3
	gWaiting = 4
)

// goroutineBatch is how many goroutines one listing request asks for.
const goroutineBatch = 10000

func goroutineCommands() []*command {
	return []*command{
		{names: []string{"goroutines", "grs"}, group: groupGoroutines, fn: goroutinesCmd,
			help: `List program goroutines.

	goroutines [-u|-r|-g|-s] [-t [depth]] [-l] [-with|-without <field> [<arg>]] [-group <field>] [-exec <command>]

Which location is shown for each goroutine:
	-u	topmost frame in user code (default)
	-r	topmost frame, runtime included
	-g	the go statement that created it
	-s	its start function
	-t	its stack trace too (optional depth, default 10)
	-l	its labels too

Filters (-w/-with keeps matches, -wo/-without drops them):
	userloc|curloc|goloc|startloc <substring>
	label <key>[=<value>]
	running
	user

-group <field> groups by userloc, curloc, goloc, startloc, running, user or
"label <key>", showing up to 5 goroutines per group. -exec runs a command on
every goroutine listed.`},
		{names: []string{"goroutine", "gr"}, group: groupGoroutines, allowed: onPrefix, fn: goroutineCmd,
			help: "Shows or changes current goroutine.\n\n\tgoroutine\n\tgoroutine <id>\n\tgoroutine <id> <command>\n\nWithout arguments it shows the current goroutine; with an id it selects that\ngoroutine; with an id and a command it runs the command on that goroutine\nwithout selecting it."},
		{names: []string{"threads"}, group: groupGoroutines, fn: threadsCmd,
			help: "Print out info for every traced thread."},
		{names: []string{"thread", "tr"}, group: groupGoroutines, fn: threadCmd,
			help: "Switch to the specified thread.\n\n\tthread <id>"},
	}
}

func goroutinesCmd(t *Term, ctx callCtx, args string) error {
	l, err := api.ParseGoroutineArgs(args)
	if err != nil {
		return err
	}
	st, err := t.client.GetState()
	if err != nil {
		return err
	}
	batch := goroutineBatch
	if l.Group.GroupBy != api.GoroutineFieldNone {
		batch = 0 // a group's total needs every goroutine
	}
	total := 0
	scope := ctx.scope
	for start := 0; start >= 0; {
		out, err := t.client.ListGoroutinesWithFilter(rpc2.ListGoroutinesIn{Start: start, Count: batch,
			Filters: l.Filters, GoroutineGroupingOptions: l.Group, EvalScope: &scope})
		if err != nil {
			return err
		}
		gs, groups, tooMany := out.Goroutines, out.Groups, out.TooManyGroups
		start = out.Nextg
		if len(groups) > 0 {
			for i, g := range groups {
				fmt.Fprintln(t.out, g.Name)
				members := gs[g.Offset : g.Offset+g.Count]
				if err := t.printGoroutines(ctx, "\t", members, l, st); err != nil {
					return err
				}
				fmt.Fprintf(t.out, "\tTotal: %d\n", g.Total)
				if i != len(groups)-1 {
					fmt.Fprintln(t.out)
				}
			}
			if tooMany {
				fmt.Fprintln(t.out, "Too many groups")
			}
			continue
		}
		sort.Slice(gs, func(i, j int) bool { return gs[i].ID < gs[j].ID })
		if err := t.printGoroutines(ctx, "", gs, l, st); err != nil {
			return err
		}
		total += len(gs)
	}
	if total > 0 {
		fmt.Fprintf(t.out, "[%d goroutines]\n", total)
	}
	return nil
}

func (t *Term) printGoroutines(ctx callCtx, indent string, gs []*api.Goroutine, l api.GoroutineArgs, st *api.DebuggerState) error {
	for _, g := range gs {
		mark := "  "
		if st.SelectedGoroutine != nil && st.SelectedGoroutine.ID == g.ID {
			mark = "* "
		}
		fmt.Fprintf(t.out, "%s%sGoroutine %s\n", indent, mark, t.goroutineLine(g, l.Loc))
		if l.Labels {
			writeLabels(t, g, indent+"\t")
		}
		if l.Stack {
			frames, err := t.client.StacktraceFrom(g.ID, l.Depth, 0, 0, nil)
			if err != nil {
				return err
			}
			printStack(t, frames, indent+"\t", false)
		}
		if l.Exec != "" {
			c := ctx
			c.scope.GoroutineID = g.ID
			c.prefix = scopePrefix
			if err := t.callWith(l.Exec, c); err != nil {
				return err
			}
		}
	}
	return nil
}

func locationLine(loc api.Location) string {
	return fmt.Sprintf("%s:%d %s (%#x)", formatPath(loc.File), loc.Line, loc.Function.Name(), loc.PC)
}

// goroutineLine is "1 - User: ./main.go:14 main.add (0x49b3ef) (thread 5) [chan receive]".
func (t *Term) goroutineLine(g *api.Goroutine, which byte) string {
	if g.Unreadable != "" {
		return fmt.Sprintf("(unreadable %s)", g.Unreadable)
	}
	name, loc := "User", g.UserCurrentLoc
	switch which {
	case 'r':
		name, loc = "Runtime", g.CurrentLoc
	case 'g':
		name, loc = "Go", g.GoStatementLoc
	case 's':
		name, loc = "Start", g.StartLoc
	}
	s := fmt.Sprintf("%d - %s: %s", g.ID, name, locationLine(loc))
	if g.ThreadID != 0 {
		s += fmt.Sprintf(" (thread %d)", g.ThreadID)
	}
	if (g.Status == gWaiting || g.Status == gSyscall) && g.WaitReason != 0 {
		s += " [" + t.waitReason(g.WaitReason)
		if g.WaitSince > 0 {
			s += fmt.Sprintf(" %d", g.WaitSince)
		}
		s += "]"
	}
	return s
}

// waitReason names a runtime wait reason. The names change between Go
// releases, so they are read from the target's own runtime.waitReasonStrings
// rather than from a table that would have to track every release.
func (t *Term) waitReason(n int64) string {
	if s, ok := t.waitReasons[n]; ok {
		return s
	}
	s := fmt.Sprintf("unknown wait reason %d", n)
	v, err := t.client.Eval(api.EvalScope{GoroutineID: -1}, fmt.Sprintf("runtime.waitReasonStrings[%d]", n), shortLoad)
	if err == nil && v.Value != "" {
		s = v.Value
	}
	if t.waitReasons == nil {
		t.waitReasons = map[int64]string{}
	}
	t.waitReasons[n] = s
	return s
}

func writeLabels(t *Term, g *api.Goroutine, indent string) {
	if len(g.Labels) == 0 {
		return
	}
	keys := make([]string, 0, len(g.Labels))
	for k := range g.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	const shown = 5
	var parts []string
	for i, k := range keys {
		if i == shown {
			break
		}
		parts = append(parts, fmt.Sprintf("%q:%q", k, g.Labels[k]))
	}
	line := indent + "Labels: " + strings.Join(parts, ", ")
	if len(keys) > shown {
		line += fmt.Sprintf("... (%d more)", len(keys)-shown)
	}
	fmt.Fprintln(t.out, line)
}

// writeGoroutineLong prints a goroutine's four locations, one per line.
func writeGoroutineLong(t *Term, g *api.Goroutine, indent string) {
	fmt.Fprintf(t.out, "%sGoroutine %d:\n", indent, g.ID)
	fmt.Fprintf(t.out, "%s\tRuntime: %s\n", indent, locationLine(g.CurrentLoc))
	fmt.Fprintf(t.out, "%s\tUser: %s\n", indent, locationLine(g.UserCurrentLoc))
	fmt.Fprintf(t.out, "%s\tGo: %s\n", indent, locationLine(g.GoStatementLoc))
	fmt.Fprintf(t.out, "%s\tStart: %s\n", indent, locationLine(g.StartLoc))
	writeLabels(t, g, indent+"\t")
}

func goroutineCmd(t *Term, ctx callCtx, args string) error {
	if ctx.prefix == onPrefix {
		if args != "" {
			return errors.New("too many arguments to goroutine")
		}
		ctx.bp.Goroutine = true
		return nil
	}
	idStr, rest := splitWord(args)
	if idStr == "" {
		st, err := t.client.GetState()
		if err != nil {
			return err
		}
		th := st.CurrentThread
		if th == nil {
			fmt.Fprintln(t.out, "Thread <nil>")
		} else {
			fmt.Fprintf(t.out, "Thread %d at %s:%d\n", th.ID, formatPath(th.File), th.Line)
		}
		if st.SelectedGoroutine != nil {
			writeGoroutineLong(t, st.SelectedGoroutine, "")
		}
		return nil
	}
	gid, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return fmt.Errorf("goroutine id must be a number, not %q", idStr)
	}
	if rest != "" {
		return runInGoroutine(t, ctx, gid, rest)
	}
	old, err := t.client.GetState()
	if err != nil {
		return err
	}
	st, err := t.client.SwitchGoroutine(gid)
	if err != nil {
		return err
	}
	t.frame = 0
	var oldID int64
	if old.SelectedGoroutine != nil {
		oldID = old.SelectedGoroutine.ID
	}
	tid := 0
	if st.CurrentThread != nil {
		tid = st.CurrentThread.ID
	}
	fmt.Fprintf(t.out, "Switched from %d to %d (thread %d)\n", oldID, gid, tid)
	return nil
}

func threadsCmd(t *Term, ctx callCtx, args string) error {
	ths, err := t.client.ListThreads()
	if err != nil {
		return err
	}
	st, err := t.client.GetState()
	if err != nil {
		return err
	}
	sort.Slice(ths, func(i, j int) bool { return ths[i].ID < ths[j].ID })
	for _, th := range ths {
		mark := "  "
		if st.CurrentThread != nil && st.CurrentThread.ID == th.ID {
			mark = "* "
		}
		if th.Function != nil {
			fmt.Fprintf(t.out, "%sThread %d at %#x %s:%d %s\n", mark, th.ID, th.PC, formatPath(th.File), th.Line, th.Function.Name())
		} else {
			fmt.Fprintf(t.out, "%sThread %d at %s:%d\n", mark, th.ID, formatPath(th.File), th.Line)
		}
	}
	return nil
}

func threadCmd(t *Term, ctx callCtx, args string) error {
	if args == "" {
		return errors.New("you must specify a thread")
	}
	tid, err := parseInt("thread id", args)
	if err != nil {
		return err
	}
	old, err := t.client.GetState()
	if err != nil {
		return err
	}
	st, err := t.client.SwitchThread(tid)
	if err != nil {
		return err
	}
	from, to := "<none>", "<none>"
	if old.CurrentThread != nil {
		from = strconv.Itoa(old.CurrentThread.ID)
	}
	if st.CurrentThread != nil {
		to = strconv.Itoa(st.CurrentThread.ID)
	}
	t.frame = 0
	fmt.Fprintf(t.out, "Switched from %s to %s\n", from, to)
	return nil
}
