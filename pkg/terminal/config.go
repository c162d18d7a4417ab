package terminal

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// settings are the "config" parameters. The numbers Delve keeps as
// optional (pointers in its config) remember whether they were set, since
// config -list shows an unset one as <not defined>, while the loaders use
// their defaults.
type settings struct {
	maxStringLen   int
	maxArrayValues int
	maxRecurse     int
	listLines      int
	flavour        string          // a key of flavours
	defined        map[string]bool // optional parameters given a value
	aliases        map[string][]string
	substitute     [][2]string
	position       string // "", positionDefault, positionSource or positionDisassembly
	tab            string // printed for each tab of listed source, when set
	traceTime      bool   // tracepoint lines start with the time of the hit
	prompt         string // "config prompt", expanded by expandPrompt; "" the default
	showLocExpr    bool   // whatis prints the location expression
	rawStrings     bool   // strings print as they are, not Go-quoted
	// lineColor is source-list-line-color: nil (unset), a string escape
	// or, as Delve still accepts, an ANSI colour number.
	lineColor any
	colors    map[string]string // the other *-color parameters, by name
}

func defaultSettings() settings {
	return settings{maxStringLen: 64, maxArrayValues: 64, maxRecurse: 1, listLines: 5, flavour: "intel",
		defined: map[string]bool{}, colors: map[string]string{}}
}

// colorParams are the escape-sequence parameters after
// source-list-line-color, in Delve's order.
var colorParams = []string{"source-list-arrow-color", "source-list-keyword-color", "source-list-string-color",
	"source-list-number-color", "source-list-comment-color", "prompt-color", "source-list-tab-color",
	"stacktrace-function-color", "stacktrace-basename-color"}

const configHelp = `Show or change configuration parameters.

	config -list

Lists every parameter with its value.

	config -save

Writes the parameters to ~/.config/tinydbg/config.yml, which sessions read at start.

	config <parameter> <value>

Sets a parameter.

	config alias <command> <alias>
	config alias <alias>

Adds an alias to a command, or removes one.

	config substitute-path <from> <to>
	config substitute-path <from>
	config substitute-path -clear
	config substitute-path

Adds or changes a source path substitution rule, removes one or all, or lists them.

Parameters: aliases, substitute-path, max-string-len, max-array-values,
max-variable-recurse, disassemble-flavor (intel, gnu, go),
show-location-expr, source-list-line-color, source-list-arrow-color,
source-list-keyword-color, source-list-string-color,
source-list-number-color, source-list-comment-color, prompt-color,
source-list-tab-color, stacktrace-function-color,
stacktrace-basename-color, source-list-line-count, position (default,
source, disassembly), tab, trace-show-timestamp, show-raw-strings,
prompt ($p pid, $t thread, $g goroutine, $f frame, $d time, $$ dollar).`

func configCmd(t *Term, ctx callCtx, args string) error {
	switch strings.TrimSpace(args) {
	case "":
		return errors.New(`wrong number of arguments to "config"`)
	case "-list":
		return t.writeConfigList(t.out)
	case "-save":
		return t.saveConfig()
	}
	name, rest := splitWord(args)
	return t.setConfig(name, rest)
}

// writeConfigList prints every parameter in Delve's order, with Delve's
// notation: strings quoted, unset optional values <not defined>.
func (t *Term) writeConfigList(out io.Writer) error {
	s := &t.set
	w := tabwriter.NewWriter(out, 0, 8, 1, ' ', 0)
	opt := func(name string, v any) {
		if s.defined[name] {
			fmt.Fprintf(w, "%s\t%v\n", name, v)
		} else {
			fmt.Fprintf(w, "%s\t<not defined>\n", name)
		}
	}
	fmt.Fprintf(w, "aliases\t%v\n", aliasesText(s.aliases))
	fmt.Fprintf(w, "substitute-path\t%s\n", substituteText(s.substitute))
	opt("max-string-len", s.maxStringLen)
	opt("max-array-values", s.maxArrayValues)
	opt("max-variable-recurse", s.maxRecurse)
	opt("disassemble-flavor", s.flavour)
	fmt.Fprintf(w, "show-location-expr\t%t\n", s.showLocExpr)
	if c, ok := s.lineColor.(string); ok {
		fmt.Fprintf(w, "source-list-line-color\t%q\n", c)
	} else {
		fmt.Fprintf(w, "source-list-line-color\t%v\n", s.lineColor)
	}
	for _, name := range colorParams {
		fmt.Fprintf(w, "%s\t%q\n", name, s.colors[name])
	}
	opt("source-list-line-count", s.listLines)
	fmt.Fprintf(w, "position\t%q\n", s.position)
	fmt.Fprintf(w, "tab\t%q\n", s.tab)
	fmt.Fprintf(w, "trace-show-timestamp\t%t\n", s.traceTime)
	fmt.Fprintf(w, "show-raw-strings\t%t\n", s.rawStrings)
	fmt.Fprintf(w, "prompt\t%q\n", s.prompt)
	return w.Flush()
}

// aliasesText is Go's %v of Delve's map[string][]string: keys sorted.
func aliasesText(m map[string][]string) string {
	keys := sortedKeys(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%v", k, m[k])
	}
	return "map[" + strings.Join(parts, " ") + "]"
}

// substituteText is Go's %v of Delve's rules, {From To} structs.
func substituteText(rules [][2]string) string {
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = "{" + r[0] + " " + r[1] + "}"
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// setConfig sets one parameter from its text, with Delve's messages.
func (t *Term) setConfig(name, rest string) error {
	s := &t.set
	ints := map[string]*int{
		"max-string-len": &s.maxStringLen, "max-array-values": &s.maxArrayValues,
		"max-variable-recurse": &s.maxRecurse, "source-list-line-count": &s.listLines,
	}
	bools := map[string]*bool{"show-location-expr": &s.showLocExpr, "trace-show-timestamp": &s.traceTime,
		"show-raw-strings": &s.rawStrings}
	if p, ok := ints[name]; ok {
		n, err := strconv.Atoi(rest)
		if err != nil {
			return fmt.Errorf("argument to %q must be a number", name)
		}
		if n < 0 {
			return fmt.Errorf("argument to %q must be a number greater than zero", name)
		}
		*p, s.defined[name] = n, true
		return nil
	}
	if p, ok := bools[name]; ok {
		if rest != "true" && rest != "false" {
			return fmt.Errorf("argument to %q must be true or false", name)
		}
		*p = rest == "true"
		return nil
	}
	for _, c := range colorParams {
		if name == c {
			s.colors[name] = unquote(rest)
			return nil
		}
	}
	switch name {
	case "alias":
		return t.setAlias(rest)
	case "substitute-path":
		return t.setSubstitutePath(rest)
	case "source-list-line-color":
		if n, err := strconv.Atoi(rest); err == nil {
			if n < 0 {
				return fmt.Errorf("argument to %q must be a number greater than zero", name)
			}
			s.lineColor = n
		} else {
			s.lineColor = unquote(rest)
		}
		return nil
	case "prompt":
		s.prompt = unquote(rest)
		return nil
	case "tab":
		s.tab = unquote(rest)
		return nil
	case "disassemble-flavor":
		rest = unquote(rest)
		if _, ok := flavours[rest]; !ok {
			return fmt.Errorf("disassemble-flavor must be intel, gnu or go, not %q", rest)
		}
		s.flavour, s.defined[name] = rest, true
		return nil
	case "position":
		switch rest = unquote(rest); rest {
		case "", positionDefault, positionSource, positionDisassembly:
			s.position = rest
			return nil
		}
		return fmt.Errorf("position must be default, source or disassembly, not %q", rest)
	}
	return fmt.Errorf("%q is not a configuration parameter", name)
}

// setAlias is "config alias <command> <alias>" (add) and "config alias
// <alias>" (remove), as in Delve; an alias taken by a command is refused.
func (t *Term) setAlias(rest string) error {
	argv := quotedFields(rest)
	switch len(argv) {
	case 1:
		for cmd, as := range t.set.aliases {
			kept := as[:0]
			for _, a := range as {
				if a != argv[0] {
					kept = append(kept, a)
				}
			}
			t.set.aliases[cmd] = kept
		}
	case 2:
		cmd, alias := argv[0], argv[1]
		if t.baseCommand(cmd) == nil {
			return fmt.Errorf("command %q not available, type 'help' for a list of commands", cmd)
		}
		if c := t.find(alias); c != nil {
			return fmt.Errorf("%q is already a name of %s", alias, c.names[0])
		}
		if t.set.aliases == nil {
			t.set.aliases = map[string][]string{}
		}
		t.set.aliases[cmd] = append(t.set.aliases[cmd], alias)
	default:
		return errors.New(`wrong number of arguments to "config alias"`)
	}
	t.applyAliases()
	return nil
}

// baseCommand finds a command by its built-in names only.
func (t *Term) baseCommand(name string) *command {
	for _, c := range t.cmds {
		for _, n := range c.names[:c.builtin] {
			if n == name {
				return c
			}
		}
	}
	return nil
}

// applyAliases rebuilds each command's names: its built-in ones, then the
// configured aliases of any of them.
func (t *Term) applyAliases() {
	for _, c := range t.cmds {
		if c.builtin == 0 {
			c.builtin = len(c.names)
		}
		c.names = c.names[:c.builtin:c.builtin]
		for _, n := range c.names[:c.builtin] {
			c.names = append(c.names, t.set.aliases[n]...)
		}
	}
}

func (t *Term) setSubstitutePath(rest string) error {
	argv := quotedFields(rest)
	if len(argv) == 2 && argv[0] == "-clear" {
		argv = argv[1:]
	}
	switch {
	case len(argv) == 1 && argv[0] == "-clear":
		t.set.substitute = nil
	case len(argv) == 0:
		w := tabwriter.NewWriter(t.out, 0, 8, 1, ' ', 0)
		for _, r := range t.set.substitute {
			fmt.Fprintf(w, "%q\t→\t%q\n", r[0], r[1])
		}
		return w.Flush()
	case len(argv) == 1:
		for i, r := range t.set.substitute {
			if r[0] == argv[0] {
				t.set.substitute = append(t.set.substitute[:i], t.set.substitute[i+1:]...)
				return nil
			}
		}
		return fmt.Errorf("could not find rule for %q", argv[0])
	case len(argv) == 2:
		for i, r := range t.set.substitute {
			if r[0] == argv[0] {
				t.set.substitute[i][1] = argv[1]
				return nil
			}
		}
		t.set.substitute = append(t.set.substitute, [2]string{argv[0], argv[1]})
	default:
		return errors.New(`too many arguments to "config substitute-path"`)
	}
	return nil
}

// quotedFields splits at blanks, keeping "double-quoted" words whole.
func quotedFields(s string) []string {
	var out []string
	var cur strings.Builder
	in, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			in, have = !in, true
		case (r == ' ' || r == '\t') && !in:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}
