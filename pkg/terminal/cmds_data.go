package terminal

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// shortLoad is how much of a value one-line listings (locals, args,
// breakpoint banners) load: enough to recognise it, cheap to fetch.
var shortLoad = api.ShortLoadConfig

func dataCommands() []*command {
	return []*command{
		{names: []string{"print", "p"}, group: groupData, allowed: scopePrefix | onPrefix | deferredPrefix, fn: printCmd,
			help: "Evaluate an expression.\n\n\tprint [%format] <expression>\n\nThe optional printf verb (%x, %d, %q...) formats every number or string of the result."},
		{names: []string{"locals"}, group: groupData, allowed: scopePrefix | onPrefix | deferredPrefix, fn: localsCmd,
			help: "Print local variables.\n\n\tlocals [-v] [<regex>]\n\nOnly variables whose name matches the regex are shown; -v prints them in full."},
		{names: []string{"args"}, group: groupData, allowed: scopePrefix | onPrefix | deferredPrefix, fn: argsCmd,
			help: "Print function arguments.\n\n\targs [-v] [<regex>]"},
		{names: []string{"vars"}, group: groupData, fn: varsCmd,
			help: "Print package variables.\n\n\tvars [-v] [<regex>]"},
		{names: []string{"set"}, group: groupData, allowed: scopePrefix, fn: setCmd,
			help: "Changes the value of a variable.\n\n\tset <variable> = <value>\n\nOnly numbers, booleans and pointers can be set."},
		{names: []string{"whatis"}, group: groupData, allowed: scopePrefix, fn: whatisCmd,
			help: "Prints type of an expression.\n\n\twhatis <expression>"},
		{names: []string{"display"}, group: groupData, fn: displayCmd,
			help: "Print value of an expression every time the program stops.\n\n\tdisplay -a [%format] <expression>\n\tdisplay -d <number>\n\tdisplay\n\n-a adds an expression, -d removes one by number; without arguments all are printed."},
		{names: []string{"regs"}, group: groupData, allowed: scopePrefix, fn: regsCmd,
			help: "Print contents of CPU registers.\n\n\tregs [-a]\n\n-a includes the floating point and vector registers."},
		{names: []string{"examinemem", "x"}, group: groupData, allowed: scopePrefix, fn: examineCmd,
			help: `Examine raw memory at the given address.

	examinemem [-fmt <format>] [-count|-len <count>] [-size <size>] <address>
	examinemem [-fmt <format>] [-count|-len <count>] [-size <size>] -x <expression>

Format is one of bin, oct, dec, hex (default hex); size is 1, 2, 4 or 8 bytes
(default 1); count defaults to 1. With -x the address is the value of the expression.`},
	}
}

// loadConfig is how much print and "-v" listings load, from the settings.
func (t *Term) loadConfig() api.LoadConfig {
	return api.LoadConfig{FollowPointers: true, MaxVariableRecurse: t.set.maxRecurse,
		MaxStringLen: t.set.maxStringLen, MaxArrayValues: t.set.maxArrayValues, MaxStructFields: -1}
}

// splitVerb splits a leading printf verb such as "%x" from an expression.
func splitVerb(args string) (verb, expr string) {
	if !strings.HasPrefix(args, "%") {
		return "", args
	}
	verb, expr, _ = strings.Cut(args, " ")
	return verb, strings.TrimSpace(expr)
}

func printCmd(t *Term, ctx callCtx, args string) error {
	if args == "" {
		return errNotEnoughArgs
	}
	if ctx.prefix == onPrefix {
		ctx.bp.Variables = append(ctx.bp.Variables, args)
		return nil
	}
	verb, expr := splitVerb(args)
	if expr == "" {
		return errNotEnoughArgs
	}
	v, err := t.client.Eval(ctx.scope, expr, t.loadConfig())
	if err != nil {
		return err
	}
	fmt.Fprintln(t.out, v.StringWithOptions("", verb, api.PrettyNewlines|t.rawFlag()))
	if v.Kind == reflect.Chan {
		t.printChanWaiters(ctx, v)
	}
	return nil
}

// maxChanWaiters is how many of a channel's waiting goroutines print
// lists, as in Delve.
const maxChanWaiters = 100

// printChanWaiters lists the goroutines blocked on a printed channel, in
// Delve's words, naming the channel by address as Delve's client does.
func (t *Term) printChanWaiters(ctx callCtx, v *api.Variable) {
	fmt.Fprintln(t.out)
	scope := ctx.scope
	out, err := t.client.ListGoroutinesWithFilter(rpc2.ListGoroutinesIn{Count: maxChanWaiters, EvalScope: &scope,
		Filters: []api.ListGoroutinesFilter{{Kind: api.GoroutineWaitingOnChannel, Arg: fmt.Sprintf("*(*%q)(%#x)", v.Type, v.Addr)}}})
	if err != nil {
		fmt.Fprintf(t.out, "Error reading channel wait queue: %v\n", err)
		return
	}
	fmt.Fprintln(t.out, "Goroutines waiting on this channel:")
	st, err := t.client.GetState()
	if err != nil {
		fmt.Fprintf(t.out, "Error printing channel wait queue: %v\n", err)
		return
	}
	if err := t.printGoroutines(ctx, "", out.Goroutines, api.GoroutineArgs{}, st); err != nil {
		fmt.Fprintf(t.out, "Error printing channel wait queue: %v\n", err)
	}
}

// varListArgs parses "[-v] [regex]".
func (t *Term) varListArgs(args string) (*regexp.Regexp, api.LoadConfig, bool, error) {
	cfg, long := shortLoad, false
	if first, rest := splitWord(args); first == "-v" {
		cfg, long, args = t.loadConfig(), true, rest
	}
	if args == "" {
		return nil, cfg, long, nil
	}
	re, err := regexp.Compile(args)
	if err != nil {
		return nil, cfg, long, fmt.Errorf("bad filter %q: %w", args, err)
	}
	return re, cfg, long, nil
}

func (t *Term) printVars(kind string, vars []api.Variable, re *regexp.Regexp, long bool) {
	shown := 0
	for i := range vars {
		v := &vars[i]
		if re != nil && !re.MatchString(v.Name) {
			continue
		}
		shown++
		name := v.Name
		if v.Flags&api.VariableShadowed != 0 {
			name = "(" + name + ")"
		}
		if long {
			fmt.Fprintf(t.out, "%s = %s\n", name, v.StringWithOptions("", "", api.PrettyNewlines|t.rawFlag()))
		} else {
			fmt.Fprintf(t.out, "%s = %s\n", name, v.SinglelineString())
		}
	}
	if shown == 0 {
		fmt.Fprintf(t.out, "(no %s)\n", kind)
	}
}

func localsCmd(t *Term, ctx callCtx, args string) error {
	return scopeVarsCmd(t, ctx, args, "locals", func(bp *api.Breakpoint, cfg *api.LoadConfig) { bp.LoadLocals = cfg },
		t.client.ListLocalVars)
}

func argsCmd(t *Term, ctx callCtx, args string) error {
	return scopeVarsCmd(t, ctx, args, "args", func(bp *api.Breakpoint, cfg *api.LoadConfig) { bp.LoadArgs = cfg },
		t.client.ListFunctionArgs)
}

// scopeVarsCmd is locals and args: under "on" it makes the breakpoint
// load them (through onBreakpoint), otherwise it lists them with list.
func scopeVarsCmd(t *Term, ctx callCtx, args, kind string, onBreakpoint func(*api.Breakpoint, *api.LoadConfig),
	list func(api.EvalScope, api.LoadConfig) ([]api.Variable, error)) error {
	re, cfg, long, err := t.varListArgs(args)
	if err != nil {
		return err
	}
	if ctx.prefix == onPrefix {
		if re != nil {
			return errors.New("filter not supported on breakpoint")
		}
		onBreakpoint(ctx.bp, &cfg)
		return nil
	}
	vars, err := list(ctx.scope, cfg)
	if err != nil {
		return err
	}
	t.printVars(kind, vars, re, long)
	return nil
}

func varsCmd(t *Term, ctx callCtx, args string) error {
	re, cfg, long, err := t.varListArgs(args)
	if err != nil {
		return err
	}
	filter := ""
	if re != nil {
		filter = re.String()
	}
	vars, err := t.client.ListPackageVars(filter, cfg)
	if err != nil {
		return err
	}
	t.printVars("vars", vars, re, long)
	return nil
}

// setCmd splits "lhs = rhs" at the first "=" that is not part of ==, !=,
// <= or >=, because the value may itself be an expression.
func setCmd(t *Term, ctx callCtx, args string) error {
	for i := 0; i < len(args); i++ {
		if args[i] != '=' {
			continue
		}
		if i+1 < len(args) && args[i+1] == '=' {
			i++
			continue
		}
		if i > 0 && strings.ContainsRune("!<>=", rune(args[i-1])) {
			continue
		}
		lhs, rhs := strings.TrimSpace(args[:i]), strings.TrimSpace(args[i+1:])
		if lhs == "" || rhs == "" {
			return errNotEnoughArgs
		}
		return t.client.Set(ctx.scope, lhs, rhs)
	}
	return errors.New("syntax error: '=' not found, use set <variable> = <value>")
}

func whatisCmd(t *Term, ctx callCtx, args string) error {
	if args == "" {
		return errNotEnoughArgs
	}
	v, err := t.client.Eval(ctx.scope, args, shortLoad)
	if err != nil {
		return err
	}
	if v.Flags&api.VariableCPURegister != 0 {
		fmt.Fprintln(t.out, "CPU Register")
		return nil
	}
	if v.Type != "" {
		fmt.Fprintln(t.out, v.Type)
	}
	if v.RealType != "" && v.RealType != v.Type {
		fmt.Fprintf(t.out, "Real type: %s\n", v.RealType)
	}
	if v.Kind == reflect.Interface && len(v.Children) > 0 {
		fmt.Fprintf(t.out, "Concrete type: %s\n", v.Children[0].Type)
	}
	if t.set.showLocExpr && v.LocationExpr != "" {
		fmt.Fprintf(t.out, "location: %s\n", v.LocationExpr)
	}
	return nil
}

// rawFlag is PrettyRawString when config show-raw-strings is on.
func (t *Term) rawFlag() api.PrettyFlags {
	if t.set.rawStrings {
		return api.PrettyRawString
	}
	return 0
}

func displayCmd(t *Term, ctx callCtx, args string) error {
	switch opt, rest := splitWord(args); opt {
	case "":
		t.afterStop()
	case "-a":
		if _, expr := splitVerb(rest); expr == "" {
			return errNotEnoughArgs
		}
		t.display = append(t.display, rest)
		saved := t.display
		t.display = make([]string, len(saved))
		t.display[len(saved)-1] = rest
		t.afterStop() // show just the new one now
		t.display = saved
	case "-d":
		n, err := strconv.Atoi(rest)
		if err != nil {
			return fmt.Errorf("%q is not a number", rest)
		}
		if n < 0 || n >= len(t.display) || t.display[n] == "" {
			return fmt.Errorf("%d is out of range", n)
		}
		t.display[n] = ""
		for len(t.display) > 0 && t.display[len(t.display)-1] == "" {
			t.display = t.display[:len(t.display)-1]
		}
	default:
		return errors.New("wrong arguments, use display -a <expr> or display -d <number>")
	}
	return nil
}

func regsCmd(t *Term, ctx callCtx, args string) error {
	all := args == "-a"
	if args != "" && !all {
		return fmt.Errorf("unknown option %q to regs", args)
	}
	regs, err := t.client.ListScopeRegisters(ctx.scope, all)
	if err != nil {
		return err
	}
	width := 0
	for _, r := range regs {
		width = max(width, len(r.Name))
	}
	for _, r := range regs {
		fmt.Fprintf(t.out, "%*s = %s\n", width, r.Name, r.Value)
	}
	fmt.Fprintln(t.out) // Delve ends the list with an empty line
	return nil
}

// memArgs are the parsed options of examinemem.
type memArgs struct {
	format byte // b, o, d or x
	size   int
	count  int
	expr   bool
	target string
}

func parseMemArgs(args string) (memArgs, error) {
	m := memArgs{format: 'x', size: 1, count: 1}
	f := strings.Fields(args)
	for i := 0; i < len(f); i++ {
		opt := f[i]
		next := func() (string, error) {
			if i+1 >= len(f) {
				return "", fmt.Errorf("%s needs a value", opt)
			}
			i++
			return f[i], nil
		}
		switch opt {
		case "-fmt":
			v, err := next()
			if err != nil {
				return m, err
			}
			formats := map[string]byte{"bin": 'b', "oct": 'o', "dec": 'd', "hex": 'x'}
			if m.format = formats[v]; m.format == 0 {
				return m, fmt.Errorf("unknown format %q: use bin, oct, dec or hex", v)
			}
		case "-count", "-len", "-size":
			v, err := next()
			if err != nil {
				return m, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return m, fmt.Errorf("%s must be a positive number, not %q", opt, v)
			}
			if opt == "-size" {
				if n != 1 && n != 2 && n != 4 && n != 8 {
					return m, fmt.Errorf("size must be 1, 2, 4 or 8, not %d", n)
				}
				m.size = n
			} else {
				m.count = n
			}
		case "-x":
			m.expr = true
			m.target = strings.Join(f[i+1:], " ")
			i = len(f)
		default:
			if m.target != "" {
				return m, fmt.Errorf("unexpected argument %q", opt)
			}
			m.target = opt
		}
	}
	if m.target == "" {
		return m, errors.New("no address specified")
	}
	return m, nil
}

func examineCmd(t *Term, ctx callCtx, args string) error {
	m, err := parseMemArgs(args)
	if err != nil {
		return err
	}
	var addr uint64
	if m.expr {
		v, err := t.client.Eval(ctx.scope, m.target, t.loadConfig())
		if err != nil {
			return err
		}
		switch {
		case v.Kind == reflect.Ptr && len(v.Children) > 0:
			addr = v.Children[0].Addr
		case v.Kind >= reflect.Int && v.Kind <= reflect.Uintptr:
			if addr, err = strconv.ParseUint(api.ExtractIntValue(v.Value), 0, 64); err != nil {
				return fmt.Errorf("bad expression result %q: %w", v.Value, err)
			}
		default:
			return fmt.Errorf("unsupported expression type: %s", v.Kind)
		}
	} else if addr, err = strconv.ParseUint(m.target, 0, 64); err != nil {
		return fmt.Errorf("bad address %q: %w", m.target, err)
	}
	mem, err := t.client.ExamineMemory(addr, m.count*m.size)
	if err != nil {
		return err
	}
	writeMemory(t, addr, mem, true, m.format, m.size) // amd64 is little-endian
	return nil
}

// writeMemory prints rows of 8 values (4 in binary) with the row's
// address first, columns aligned.
func writeMemory(t *Term, addr uint64, mem []byte, little bool, format byte, size int) {
	cols := 8
	var cell string
	switch format {
	case 'b':
		cols, cell = 4, fmt.Sprintf("%%0%db", size*8)
	case 'o':
		cell = fmt.Sprintf("0%%0%do", size*3)
	case 'd':
		cell = fmt.Sprintf("%%0%dd", size*3)
	default:
		cell = fmt.Sprintf("0x%%0%dx", size*2)
	}
	addrWidth := len(fmt.Sprintf("%x", addr+uint64(len(mem))))
	w := tabwriter.NewWriter(t.out, 0, 0, 3, ' ', 0)
	for off := 0; off < len(mem); off += cols * size {
		fmt.Fprintf(w, "0x%0*x:\t", addrWidth, addr+uint64(off))
		for c := 0; c < cols && off+(c+1)*size <= len(mem); c++ {
			chunk := mem[off+c*size : off+(c+1)*size]
			var n uint64
			for i := range chunk {
				b := chunk[i]
				if little {
					b = chunk[len(chunk)-1-i]
				}
				n = n<<8 | uint64(b)
			}
			fmt.Fprintf(w, cell+"\t", n)
		}
		fmt.Fprintln(w)
	}
	w.Flush()
}
