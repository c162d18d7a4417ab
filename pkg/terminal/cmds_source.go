package terminal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tinydbg/tinydbg/service/api"
)

func sourceCommands() []*command {
	return []*command{
		{names: []string{"list", "ls", "l"}, group: groupOther, allowed: scopePrefix, fn: listCmd,
			help: "Show source code.\n\n\tlist [<locspec>]\n\nWithout a locspec, shows the source around the current position (or the\nselected frame); with one, around that location."},
		{names: []string{"disassemble", "disass"}, group: groupOther, allowed: scopePrefix, fn: disassembleCmd,
			help: "Disassembler.\n\n\tdisassemble [-a <start> <end>] [-l <locspec>]\n\nWithout arguments, disassembles the function at the current position; -a a\nrange of addresses; -l the function containing a location."},
		{names: []string{"sources"}, group: groupOther, fn: sourcesCmd,
			help: "Print list of source files.\n\n\tsources [<regex>]"},
		{names: []string{"funcs"}, group: groupOther, fn: funcsCmd,
			help: "Print list of functions.\n\n\tfuncs [<regex>]"},
		{names: []string{"types"}, group: groupOther, fn: typesCmd,
			help: "Print list of types.\n\n\ttypes [<regex>]"},
		{names: []string{"source"}, group: groupOther, fn: sourceCmd,
			help: "Executes a file containing a list of tinydbg commands.\n\n\tsource <path>"},
		{names: []string{"config"}, group: groupOther, fn: configCmd,
			help: `Changes configuration parameters.

	config -list
	config <parameter> <value>
	config substitute-path <from> <to>
	config substitute-path <from>
	config substitute-path -clear

Parameters: max-string-len, max-array-values, max-variable-recurse,
source-list-line-count, substitute-path.`},
	}
}

// settings are the values the config command changes.
type settings struct {
	maxStringLen   int
	maxArrayValues int
	maxRecurse     int
	listLines      int
	substitute     [][2]string
}

func defaultSettings() settings {
	return settings{maxStringLen: 64, maxArrayValues: 64, maxRecurse: 1, listLines: 5}
}

// localPath applies substitute-path rules: the first rule whose "from"
// is a directory prefix of path wins.
func (t *Term) localPath(path string) string {
	for _, r := range t.set.substitute {
		from := strings.TrimSuffix(r[0], "/")
		if path == from || strings.HasPrefix(path, from+"/") {
			return r[1] + path[len(from):]
		}
	}
	return path
}

// printSource lists the source around where a thread stopped.
func (t *Term) printSource(th *api.Thread) {
	if th == nil || th.File == "" {
		return
	}
	if err := t.listFile(th.File, th.Line, true); err != nil {
		fmt.Fprintf(t.errOut, "%v\n", err)
	}
}

// listFile prints line±N of file, marking the line with "=>" when arrow is set.
func (t *Term) listFile(file string, line int, arrow bool) error {
	if file == "" {
		return nil
	}
	lines, err := t.sources.lines(t.localPath(file))
	if err != nil {
		return err
	}
	first, last := max(line-t.set.listLines, 1), min(line+t.set.listLines, len(lines))
	var b strings.Builder
	for n := first; n <= last; n++ {
		mark := "  "
		if arrow && n == line {
			mark = "=>"
		}
		fmt.Fprintf(&b, "%s%4d:\t%s\n", mark, n, lines[n-1])
	}
	_, err = io.WriteString(t.out, b.String())
	return err
}

func listCmd(t *Term, ctx callCtx, args string) error {
	if args != "" {
		locs, err := t.client.FindLocation(ctx.scope, args)
		if err != nil {
			return err
		}
		if len(locs) != 1 {
			return fmt.Errorf("location %q is ambiguous: it matches %d places", args, len(locs))
		}
		l := locs[0]
		fmt.Fprintf(t.out, "Showing %s:%d (PC: %#x)\n", formatPath(l.File), l.Line, l.PC)
		return t.listFile(l.File, l.Line, false)
	}
	if ctx.prefix == scopePrefix || t.frame != 0 {
		frames, err := t.client.StacktraceFrom(ctx.scope.GoroutineID, ctx.scope.Frame, ctx.scope.Frame, 0, nil)
		if err != nil {
			return err
		}
		if len(frames) == 0 {
			return fmt.Errorf("frame %d does not exist", ctx.scope.Frame)
		}
		f := frames[0]
		gid := ctx.scope.GoroutineID
		if gid < 0 {
			if st, err := t.client.GetState(); err == nil && st.SelectedGoroutine != nil {
				gid = st.SelectedGoroutine.ID
			}
		}
		fmt.Fprintf(t.out, "Goroutine %d frame %d at %s:%d (PC: %#x)\n", gid, ctx.scope.Frame, formatPath(f.File), f.Line, f.PC)
		return t.listFile(f.File, f.Line, true)
	}
	st, err := t.client.GetState()
	if err != nil {
		return err
	}
	printContext(t, st)
	if g := st.SelectedGoroutine; g != nil && g.CurrentLoc.File != "" {
		return t.listFile(g.CurrentLoc.File, g.CurrentLoc.Line, true)
	}
	if st.CurrentThread == nil {
		return errors.New("no current position")
	}
	return t.listFile(st.CurrentThread.File, st.CurrentThread.Line, true)
}

var errDisasmUsage = errors.New("wrong number of arguments: disassemble [-a <start> <end>] [-l <locspec>]")

func disassembleCmd(t *Term, ctx callCtx, args string) error {
	var insts api.AsmInstructions
	var err error
	opt, rest := splitWord(args)
	switch opt {
	case "", "-l":
		spec := "+0"
		if opt == "-l" {
			if rest == "" {
				return errDisasmUsage
			}
			spec = rest
		}
		locs, ferr := t.client.FindLocation(ctx.scope, spec)
		if ferr != nil {
			return ferr
		}
		if len(locs) != 1 {
			return errors.New("expression specifies multiple locations")
		}
		insts, err = t.client.Disassemble(locs[0].PC, 0, api.IntelFlavour)
	case "-a":
		f := strings.Fields(rest)
		if len(f) != 2 {
			return errDisasmUsage
		}
		start, e1 := strconv.ParseUint(f[0], 0, 64)
		end, e2 := strconv.ParseUint(f[1], 0, 64)
		if e1 != nil || e2 != nil {
			return fmt.Errorf("wrong argument: addresses must be numbers")
		}
		insts, err = t.client.Disassemble(start, end, api.IntelFlavour)
	default:
		return errDisasmUsage
	}
	if err != nil {
		return err
	}
	if len(insts) > 0 && insts[0].Loc.Function != nil {
		fmt.Fprintf(t.out, "TEXT %s(SB) %s\n", insts[0].Loc.Function.Name(), insts[0].Loc.File)
	}
	w := tabwriter.NewWriter(t.out, 1, 8, 1, '\t', 0)
	for _, in := range insts {
		pc, bp := "", ""
		if in.AtPC {
			pc = "=>"
		}
		if in.Breakpoint {
			bp = "*"
		}
		fmt.Fprintf(w, "%s\t%s:%d\t%#x%s\t%x\t%s\n", pc, filepath.Base(in.Loc.File), in.Loc.Line, in.Loc.PC, bp, in.Bytes, in.Text)
	}
	return w.Flush()
}

func printSorted(t *Term, list []string, err error) error {
	if err != nil {
		return err
	}
	sort.Strings(list)
	for _, s := range list {
		fmt.Fprintln(t.out, s)
	}
	return nil
}

func sourcesCmd(t *Term, ctx callCtx, args string) error {
	l, err := t.client.ListSources(args)
	return printSorted(t, l, err)
}

func funcsCmd(t *Term, ctx callCtx, args string) error {
	l, err := t.client.ListFunctions(args)
	return printSorted(t, l, err)
}

func typesCmd(t *Term, ctx callCtx, args string) error {
	l, err := t.client.ListTypes(args)
	return printSorted(t, l, err)
}

func sourceCmd(t *Term, ctx callCtx, args string) error {
	if args == "" {
		return errors.New("wrong number of arguments: source <filename>")
	}
	if args == "~" || strings.HasPrefix(args, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			args = filepath.Join(home, strings.TrimPrefix(args, "~"))
		}
	}
	return t.sourceFile(args)
}

// sourceFile runs every line of a command file; a failing line is reported
// with its line number and the rest still run, as an init script expects.
func (t *Term) sourceFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading commands: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := t.Call(line); err != nil {
			if errors.Is(err, ErrExit) {
				return err
			}
			fmt.Fprintf(t.errOut, "%s:%d: %v\n", path, n, err)
		}
	}
	return sc.Err()
}

func configCmd(t *Term, ctx callCtx, args string) error {
	name, rest := splitWord(args)
	ints := map[string]*int{
		"max-string-len": &t.set.maxStringLen, "max-array-values": &t.set.maxArrayValues,
		"max-variable-recurse": &t.set.maxRecurse, "source-list-line-count": &t.set.listLines,
	}
	switch name {
	case "":
		return errors.New("wrong number of arguments to config: use config -list or config <parameter> <value>")
	case "-list":
		w := tabwriter.NewWriter(t.out, 0, 8, 1, ' ', 0)
		keys := make([]string, 0, len(ints))
		for k := range ints {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s\t%d\n", k, *ints[k])
		}
		fmt.Fprintf(w, "substitute-path\t%v\n", t.set.substitute)
		return w.Flush()
	case "substitute-path":
		f := strings.Fields(rest)
		switch {
		case len(f) == 1 && f[0] == "-clear":
			t.set.substitute = nil
		case len(f) == 1:
			kept := t.set.substitute[:0]
			for _, r := range t.set.substitute {
				if r[0] != f[0] {
					kept = append(kept, r)
				}
			}
			t.set.substitute = kept
		case len(f) == 2:
			t.set.substitute = append(t.set.substitute, [2]string{f[0], f[1]})
		default:
			return errors.New("usage: config substitute-path <from> [<to>] | -clear")
		}
		return nil
	}
	p, ok := ints[name]
	if !ok {
		return fmt.Errorf("unknown configuration parameter %q", name)
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return fmt.Errorf("%s needs a non-negative number, not %q", name, rest)
	}
	*p = n
	return nil
}
