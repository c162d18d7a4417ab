package debugger

import (
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/service/api"
)

// The breakpoints every session starts with, under Delve's names and ids:
// clients (Delve's own among them) recognise them by these.
const (
	// UnrecoveredPanicName names the breakpoint on runtime.fatalpanic,
	// where a panic nobody recovered is about to kill the program.
	UnrecoveredPanicName = "unrecovered-panic"
	// FatalThrowName names the breakpoint on the runtime's fatal error
	// paths (runtime.throw, runtime.fatal, runtime.fatalsignal).
	FatalThrowName = "runtime-fatal-throw"
	// UnrecoveredPanicID is the id of the unrecovered-panic breakpoint.
	UnrecoveredPanicID = -1
	// FatalThrowID is the id of the runtime-fatal-throw breakpoint.
	FatalThrowID = -2
	// panicValueExpr is printed at an unrecovered-panic stop: the value
	// passed to panic, still reachable from the panicking goroutine.
	panicValueExpr = "runtime.curg._panic.arg"
)

// fatalThrowFuncs are the functions behind runtime-fatal-throw, in the
// order Delve lists their addresses; those a binary lacks are skipped.
var fatalThrowFuncs = []string{"runtime.throw", "runtime.fatal", "runtime.winthrow", "runtime.fatalsignal"}

// installDefaultBreakpoints sets the unrecovered-panic and
// runtime-fatal-throw breakpoints that are not already there (a restart
// keeps them, with their enabled state; a cleared one comes back, as in
// Delve). A binary without these runtime functions (not Go, or stripped)
// simply gets none: failing the launch for that would be worse.
func (d *Debugger) installDefaultBreakpoints(t *proc.Target) {
	if _, ok := d.bps[UnrecoveredPanicID]; !ok {
		if pbp, loc, err := setAtEntry(t, "runtime.fatalpanic"); err == nil {
			d.addDefault(loc, pbp, api.Breakpoint{
				ID: UnrecoveredPanicID, Name: UnrecoveredPanicName,
				Variables: []string{panicValueExpr},
			})
		}
	}
	if _, ok := d.bps[FatalThrowID]; !ok {
		var addrs []uint64
		// Only the out-of-line copies, as in setAtEntry.
		for _, name := range fatalThrowFuncs {
			fn, err := t.Symbols().LookupFunc(name)
			if err != nil {
				continue
			}
			if pc, err := t.Symbols().FirstPCAfterPrologue(fn); err == nil {
				addrs = append(addrs, pc)
			}
		}
		if len(addrs) == 0 {
			return
		}
		loc := location{kind: locAddr, addr: addrs[0], addrs: addrs}
		if pbp, err := loc.set(t); err == nil {
			d.addDefault(loc, pbp, api.Breakpoint{ID: FatalThrowID, Name: FatalThrowName})
		}
	}
}

// addDefault records a default breakpoint that loc.set just created.
func (d *Debugger) addDefault(loc location, pbp *proc.Breakpoint, spec api.Breakpoint) {
	spec.File, spec.Line, spec.FunctionName = pbp.File, pbp.Line, pbp.FuncName
	spec.Addrs = append([]uint64(nil), loc.addrs...)
	spec.ExprString = loc.exprString(pbp)
	d.bps[spec.ID] = &userBreakpoint{spec: spec, loc: loc, pbp: pbp, perG: map[int64]uint64{}}
}

// describeMultiFunc shows a breakpoint on several addresses as Delve
// does: addresses in the order they were asked for; "(multiple
// functions)" when they lie in functions of different names (type
// parameters aside), and "<multiple locations>" with line 0 only when
// their source lines differ, so that a line holding a closure keeps its
// file:line.
func (d *Debugger) describeMultiFunc(ub *userBreakpoint, b *api.Breakpoint) {
	addrs := ub.loc.addrs
	if len(addrs) < 2 && ub.loc.kind == locLine && ub.pbp != nil {
		// A file:line resolved here (Delve's terminal sends the location
		// expression along) covers a closure's line in both functions too.
		addrs = ub.pbp.Addrs
	}
	if len(addrs) < 2 || ub.pbp == nil {
		return
	}
	b.Addrs = append([]uint64(nil), addrs...)
	b.Addr = b.Addrs[0]
	var fn0, file0 string
	var line0 int
	for i, a := range addrs {
		file, line, f := d.bi.PCToLine(a)
		name := ""
		if f != nil {
			name = withoutTypeParams(f.Name)
		}
		if i == 0 {
			fn0, file0, line0 = name, file, line
			continue
		}
		if name != fn0 {
			b.FunctionName = "(multiple functions)"
		} else if b.FunctionName != "(multiple functions)" {
			// Instantiations of one generic function.
			b.FunctionName = name
		}
		if file != file0 || line != line0 {
			b.File, b.Line = "<multiple locations>", 0
		}
	}
}

// withoutTypeParams drops the bracketed type arguments of a generic
// function's name: main.Sum[go.shape.int] is main.Sum. Other brackets
// (type:.eq.[2]int) are kept.
func withoutTypeParams(name string) string {
	if !strings.Contains(name, "[go.shape.") {
		return name
	}
	var out strings.Builder
	depth := 0
	for _, r := range name {
		switch {
		case r == '[':
			depth++
		case r == ']' && depth > 0:
			depth--
		case depth == 0:
			out.WriteRune(r)
		}
	}
	return out.String()
}

// curgExpr rewrites an expression on runtime.curg (Delve's name for the
// stopped goroutine's runtime.g, which our evaluator does not know) into
// one on that g's address, so that the unrecovered-panic breakpoint can
// show the panic value; other expressions are returned unchanged.
func (d *Debugger) curgExpr(t *proc.Target, goid int64, expr string) string {
	rest, ok := strings.CutPrefix(expr, "runtime.curg")
	if !ok || (rest != "" && rest[0] != '.') {
		return expr
	}
	g, err := d.findG(t, goid)
	if err != nil || g.Addr == 0 {
		return expr
	}
	return fmt.Sprintf("(*runtime.g)(%#x)%s", g.Addr, rest)
}

// setAtEntry sets a breakpoint at the out-of-line entry of a runtime
// function, as Delve does for its default breakpoints; looking for inlined
// copies too would read all of .debug_info at every launch.
func setAtEntry(t *proc.Target, name string) (*proc.Breakpoint, location, error) {
	fn, err := t.Symbols().LookupFunc(name)
	if err != nil {
		return nil, location{}, err
	}
	pc, err := t.Symbols().FirstPCAfterPrologue(fn)
	if err != nil {
		return nil, location{}, err
	}
	loc := location{kind: locAddr, addr: pc, addrs: []uint64{pc}}
	pbp, err := loc.set(t)
	return pbp, loc, err
}
