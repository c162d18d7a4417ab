package debugger

import (
	"errors"
	"fmt"
	"go/parser"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/core"
	"github.com/tinydbg/tinydbg/service/api"
)

// userBreakpoint is a client-visible breakpoint. Its id is ours, not
// proc's: disabling removes the proc breakpoint and enabling creates a new
// one, and a restart creates all of them again, while clients keep the id.
type userBreakpoint struct {
	spec api.Breakpoint   // the client's settings, with our ID
	loc  location         // where it was resolved, to set it again
	pbp  *proc.Breakpoint // nil while disabled
	// view, when set, is where a function breakpoint whose address is in
	// inlined code is shown (see entryView); recomputed with pbp.
	view *entryView
	// hits carried over from earlier proc breakpoints (before a disable).
	total uint64
	perG  map[int64]uint64
	// watchType is the type of a watchpoint's value, to show old and new.
	watchType godwarf.Type
}

// ValidBreakpointName rejects names that are numbers or contain anything
// but letters and digits, as Delve does (names and ids share a namespace
// in the terminal).
func ValidBreakpointName(name string) error {
	if name == "" {
		return nil
	}
	if _, err := strconv.Atoi(name); err == nil {
		return errors.New("breakpoint name can not be a number")
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return fmt.Errorf("invalid character in breakpoint name '%c'", r)
		}
	}
	return nil
}

// ParseHitCond parses Delve's hit conditions: "N" (== N) or "OP N".
func ParseHitCond(s string) (*proc.HitCondition, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	op, num := "==", s
	if f := strings.Fields(s); len(f) == 2 {
		op, num = f[0], f[1]
	} else if len(f) != 1 {
		return nil, fmt.Errorf("invalid hit condition %q: want N or OP N", s)
	}
	n, err := strconv.ParseUint(num, 0, 64)
	if err != nil {
		return nil, fmt.Errorf("invalid hit condition %q: %w", s, err)
	}
	switch op {
	case "==", "!=", "<", "<=", ">", ">=", "%":
	default:
		return nil, fmt.Errorf("invalid hit condition %q: unknown operator %q", s, op)
	}
	return &proc.HitCondition{Op: op, N: n}, nil
}

// checkCond rejects a condition that does not parse, when it is set rather
// than at its first hit, with go/parser's text as Delve reports it.
func checkCond(cond string) error {
	if strings.TrimSpace(cond) == "" {
		return nil
	}
	_, err := parser.ParseExpr(cond)
	return err
}

// CreateBreakpoint sets a breakpoint at locExpr, or when it is empty at the
// place req describes (File:Line, FunctionName, Addrs or Addr, in that
// order of preference, as Delve does), with req's settings.
func (d *Debugger) CreateBreakpoint(req api.Breakpoint, locExpr string) (*api.Breakpoint, error) {
	if err := ValidBreakpointName(req.Name); err != nil {
		return nil, err
	}
	hc, err := ParseHitCond(req.HitCond)
	if err != nil {
		return nil, err
	}
	if err := checkCond(req.Cond); err != nil {
		return nil, err
	}
	if d.cfg.CoreFile != "" {
		return nil, core.ErrBreakpointCore
	}
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if req.Name != "" && d.byName(req.Name) != nil {
		return nil, fmt.Errorf("breakpoint name %q already exists", req.Name)
	}
	var loc location
	switch {
	case locExpr != "":
		locs, err := d.findLocation(t, d.selectedG(t), 0, locExpr)
		if err != nil {
			return nil, err
		}
		if len(locs) != 1 {
			return nil, fmt.Errorf("location %q is ambiguous: %d locations", locExpr, len(locs))
		}
		loc = locs[0]
		req.ExprString = locExpr
	case req.File != "":
		loc = location{kind: locLine, file: req.File, line: req.Line}
	case req.FunctionName != "":
		if req.Line != 0 {
			fn, err := d.bi.LookupFunc(req.FunctionName)
			if err != nil {
				return nil, err
			}
			loc = location{kind: locLine, file: fn.DeclFile, line: fn.DeclLine + req.Line}
		} else {
			loc = location{kind: locFunc, fn: req.FunctionName}
		}
	case len(req.Addrs) > 0:
		loc = d.addrsLocation(t, req.Addrs)
	case req.Addr != 0:
		loc = location{kind: locAddr, addr: req.Addr}
	default:
		return nil, errors.New("no location given for the breakpoint")
	}
	pbp, err := loc.set(t)
	if err != nil {
		return nil, err
	}
	pbp.CondExpr, pbp.HitCond, pbp.HitCondPerG = req.Cond, hc, req.HitCondPerG
	d.installEvaluator(t)
	req.File, req.Line, req.FunctionName = pbp.File, pbp.Line, pbp.FuncName
	req.Addrs = append([]uint64(nil), pbp.Addrs...)
	req.ID = d.nextBP
	if req.ExprString == "" {
		req.ExprString = loc.exprString(pbp)
	}
	d.nextBP++
	ub := &userBreakpoint{spec: req, loc: loc, pbp: pbp, perG: map[int64]uint64{}}
	ub.view = d.breakpointView(ub)
	d.bps[req.ID] = ub
	d.applyCondMode(t, ub)
	return d.convertBreakpoint(ub), nil
}

// addrsLocation is the location of a breakpoint a client asked for by
// addresses, as our REPL and Delve's clients do with the PCs FindLocation
// returned: all of them make one logical breakpoint. When they are exactly
// the copies of one function, the breakpoint is kept as that function's,
// so that a restart finds them again by name.
func (d *Debugger) addrsLocation(t *proc.Target, addrs []uint64) location {
	// Addresses alone can be ambiguous: when a body begins with an inlined
	// call, its breakpoint address is also the callee's. The physical
	// function comes first, as FindLocation names it there (see
	// entryView); then inlined functions innermost first, the one a stop
	// there shows as frame 0.
	var candidates []string
	if fn := d.bi.PCToFunc(addrs[0]); fn != nil {
		candidates = append(candidates, fn.Name)
	}
	for _, c := range d.bi.InlinedCallsAt(addrs[0]) {
		candidates = append(candidates, c.Func)
	}
	for _, fn := range candidates {
		if pcs, err := t.Symbols().FuncEntryStmts(fn); err == nil && sameAddrs(pcs, addrs) {
			return location{kind: locFunc, fn: fn}
		}
	}
	l := location{kind: locAddr, addr: addrs[0]}
	if len(addrs) > 1 {
		l.addrs = append([]uint64(nil), addrs...)
	}
	return l
}

// sameAddrs reports whether a and b hold the same set of addresses.
func sameAddrs(a, b []uint64) bool {
	set := map[uint64]bool{}
	for _, x := range a {
		set[x] = true
	}
	for _, x := range b {
		if !set[x] {
			return false
		}
	}
	seen := map[uint64]bool{}
	for _, x := range b {
		seen[x] = true
	}
	return len(seen) == len(set)
}

func (d *Debugger) byName(name string) *userBreakpoint {
	for _, ub := range d.bps {
		if ub.spec.Name == name {
			return ub
		}
	}
	return nil
}

// lookupBreakpoint finds a breakpoint by name, or by id when name is empty.
func (d *Debugger) lookupBreakpoint(id int, name string) (*userBreakpoint, error) {
	if name != "" {
		if ub := d.byName(name); ub != nil {
			return ub, nil
		}
		return nil, fmt.Errorf("no breakpoint with name %s", name)
	}
	if ub := d.bps[id]; ub != nil {
		return ub, nil
	}
	return nil, fmt.Errorf("no breakpoint with id %d", id)
}

// GetBreakpoint returns one breakpoint, by name if name is not empty.
func (d *Debugger) GetBreakpoint(id int, name string) (*api.Breakpoint, error) {
	_, unlock, err := d.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ub, err := d.lookupBreakpoint(id, name)
	if err != nil {
		return nil, err
	}
	return d.convertBreakpoint(ub), nil
}

// Breakpoints lists the user breakpoints by id.
func (d *Debugger) Breakpoints() ([]*api.Breakpoint, error) {
	_, unlock, err := d.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ids := make([]int, 0, len(d.bps))
	for id := range d.bps {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := make([]*api.Breakpoint, 0, len(ids))
	for _, id := range ids {
		out = append(out, d.convertBreakpoint(d.bps[id]))
	}
	return out, nil
}

// ClearBreakpoint removes a breakpoint and returns it as it was.
func (d *Debugger) ClearBreakpoint(id int, name string) (*api.Breakpoint, error) {
	t, unlock, err := d.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ub, err := d.lookupBreakpoint(id, name)
	if err != nil {
		return nil, err
	}
	out := d.convertBreakpoint(ub)
	if ub.pbp != nil {
		if err := t.ClearBreakpoint(ub.pbp.ID); err != nil {
			return nil, fmt.Errorf("clearing breakpoint %d: %w", ub.spec.ID, err)
		}
	}
	delete(d.bps, ub.spec.ID)
	return out, nil
}

// ToggleBreakpoint enables a disabled breakpoint or disables an enabled one.
func (d *Debugger) ToggleBreakpoint(id int, name string) (*api.Breakpoint, error) {
	t, unlock, err := d.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ub, err := d.lookupBreakpoint(id, name)
	if err != nil {
		return nil, err
	}
	if err := d.setDisabled(t, ub, !ub.spec.Disabled); err != nil {
		return nil, err
	}
	return d.convertBreakpoint(ub), nil
}

// AmendBreakpoint changes the settings (name, condition, hit condition,
// enabled state, what to collect) of the breakpoint with req.ID; its
// location cannot change.
func (d *Debugger) AmendBreakpoint(req api.Breakpoint) error {
	if err := ValidBreakpointName(req.Name); err != nil {
		return err
	}
	hc, err := ParseHitCond(req.HitCond)
	if err != nil {
		return err
	}
	if err := checkCond(req.Cond); err != nil {
		return err
	}
	t, unlock, err := d.lock()
	if err != nil {
		return err
	}
	defer unlock()
	ub := d.bps[req.ID]
	if ub == nil {
		return fmt.Errorf("no breakpoint with id %d", req.ID)
	}
	if other := d.byName(req.Name); req.Name != "" && other != nil && other != ub {
		return fmt.Errorf("breakpoint name %q already exists", req.Name)
	}
	if err := d.setDisabled(t, ub, req.Disabled); err != nil {
		return err
	}
	s := &ub.spec
	s.Name, s.Cond, s.HitCond, s.HitCondPerG = req.Name, req.Cond, req.HitCond, req.HitCondPerG
	s.Tracepoint, s.TraceReturn, s.Goroutine, s.Stacktrace = req.Tracepoint, req.TraceReturn, req.Goroutine, req.Stacktrace
	s.Variables, s.LoadArgs, s.LoadLocals, s.CustomCommands = req.Variables, req.LoadArgs, req.LoadLocals, req.CustomCommands
	if ub.pbp != nil {
		changed := ub.pbp.CondExpr != s.Cond || !sameHitCond(ub.pbp.HitCond, hc) || ub.pbp.HitCondPerG != s.HitCondPerG
		ub.pbp.CondExpr, ub.pbp.HitCond, ub.pbp.HitCondPerG = s.Cond, hc, s.HitCondPerG
		d.installEvaluator(t)
		if changed || ub.pbp.CondMode != proc.CondKernel {
			d.applyCondMode(t, ub)
		}
	}
	return nil
}

// setDisabled removes or recreates the proc breakpoint of ub, keeping its
// hit counts across the gap.
func (d *Debugger) setDisabled(t *proc.Target, ub *userBreakpoint, disabled bool) error {
	if disabled == ub.spec.Disabled {
		return nil
	}
	if ub.spec.WatchExpr != "" {
		return errNoDisableWatch
	}
	if disabled {
		if ub.pbp != nil {
			if err := d.exitedErr(); err == nil {
				if err := t.ClearBreakpoint(ub.pbp.ID); err != nil {
					return fmt.Errorf("disabling breakpoint %d: %w", ub.spec.ID, err)
				}
			}
			ub.total += ub.pbp.TotalHitCount
			for g, n := range ub.pbp.HitCount {
				ub.perG[g] += n
			}
			ub.pbp = nil
		}
		ub.spec.Disabled = true
		return nil
	}
	if err := d.exitedErr(); err != nil {
		return err
	}
	pbp, err := ub.loc.set(t)
	if err != nil {
		return fmt.Errorf("enabling breakpoint %d: %w", ub.spec.ID, err)
	}
	hc, _ := ParseHitCond(ub.spec.HitCond)
	pbp.CondExpr, pbp.HitCond, pbp.HitCondPerG = ub.spec.Cond, hc, ub.spec.HitCondPerG
	ub.pbp = pbp
	ub.view = d.breakpointView(ub)
	ub.spec.Disabled = false
	d.applyCondMode(t, ub)
	return nil
}

// reinstallBreakpoints sets every enabled breakpoint in a new process
// (after a restart) with zeroed hit counts; the ones that fail are removed
// and returned.
func (d *Debugger) reinstallBreakpoints() []api.DiscardedBreakpoint {
	var discarded []api.DiscardedBreakpoint
	for id, ub := range d.bps {
		ub.total, ub.perG, ub.pbp = 0, map[int64]uint64{}, nil
		if ub.spec.WatchExpr != "" {
			// Its address was the old process's. Delve drops it too and
			// describes it as a breakpoint without a place.
			b := d.convertBreakpoint(ub)
			b.WatchExpr, b.WatchType, b.Addr, b.Addrs = "", 0, 0, nil
			discarded = append(discarded, api.DiscardedBreakpoint{Breakpoint: b, Reason: fmt.Sprintf("breakpoint %d can not be enabled", id)})
			delete(d.bps, id)
			continue
		}
		if ub.spec.Disabled {
			continue
		}
		pbp, err := ub.loc.set(d.target)
		if err != nil {
			discarded = append(discarded, api.DiscardedBreakpoint{Breakpoint: d.convertBreakpoint(ub), Reason: err.Error()})
			delete(d.bps, id)
			continue
		}
		hc, _ := ParseHitCond(ub.spec.HitCond)
		pbp.CondExpr, pbp.HitCond, pbp.HitCondPerG = ub.spec.Cond, hc, ub.spec.HitCondPerG
		ub.pbp = pbp
		ub.view = d.breakpointView(ub)
		d.applyCondMode(d.target, ub)
	}
	d.installEvaluator(d.target)
	return discarded
}

// bpOf finds the user breakpoint wrapping a proc breakpoint.
func (d *Debugger) bpOf(pbp *proc.Breakpoint) *userBreakpoint {
	if pbp == nil {
		return nil
	}
	for _, ub := range d.bps {
		if ub.pbp == pbp {
			return ub
		}
	}
	return nil
}

// convertBreakpoint describes ub on the wire, with current hit counts.
func (d *Debugger) convertBreakpoint(ub *userBreakpoint) *api.Breakpoint {
	b := ub.spec
	b.HitCount = map[string]uint64{}
	b.TotalHitCount = ub.total
	for g, n := range ub.perG {
		b.HitCount[strconv.FormatInt(g, 10)] = n
	}
	b.Addrs = nil
	if ub.pbp != nil {
		b.TotalHitCount += ub.pbp.TotalHitCount
		for g, n := range ub.pbp.HitCount {
			b.HitCount[strconv.FormatInt(g, 10)] += n
		}
		b.Addrs = append([]uint64(nil), ub.pbp.Addrs...)
		b.File, b.Line, b.FunctionName = ub.pbp.File, ub.pbp.Line, ub.pbp.FuncName
		// Delve sends the location expression only for a breakpoint that
		// is not in the program (disabled or suspended); its terminal
		// reads a non-empty one as "(suspended)".
		b.ExprString = ""
		if v := ub.view; v != nil {
			// The function asked for, at its own line: see entryView.
			b.File, b.Line = v.file, v.line
			if fn := d.bi.PCToFunc(ub.pbp.Addrs[0]); fn != nil {
				b.FunctionName = fn.Name
			}
		}
	} else {
		b.Addrs = append(b.Addrs, ub.spec.Addrs...)
	}
	if len(b.Addrs) > 0 {
		b.Addr = b.Addrs[0]
	}
	d.describeMultiFunc(ub, &b)
	d.describeMultiLine(ub, &b)
	describeCond(ub, &b)
	// Delve names a breakpoint's function without type arguments.
	b.FunctionName = withoutTypeParams(b.FunctionName)
	b.AddrPid = nil
	return &b
}

// describeMultiLine gives a breakpoint whose addresses lie on different
// source lines (a function's out-of-line body and its inlined copies) the
// file:line Delve gives it, "<multiple locations>" and 0: Delve keeps the
// first address's file:line only while every other address has the same.
// The first address is where b already says it is (its entry view, if
// any); the others are where a stop on them would be.
func (d *Debugger) describeMultiLine(ub *userBreakpoint, b *api.Breakpoint) {
	if ub.pbp == nil || len(ub.pbp.Addrs) < 2 || b.File == "<multiple locations>" {
		return
	}
	for _, a := range ub.pbp.Addrs[1:] {
		if file, line, _ := d.bi.PCToLine(a); file != b.File || line != b.Line {
			b.File, b.Line = "<multiple locations>", 0
			return
		}
	}
}
