package debugger

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/service/api"
)

// locKind says how a location is turned into a breakpoint.
type locKind int

const (
	locFunc locKind = iota // after the prologue of fn, and on each inlined copy
	locLine                // every address of file:line
	locAddr                // addr, or every address of addrs when set
)

// location is a resolved location spec, kept by breakpoints so they can be
// set again after a disable or a restart.
type location struct {
	kind locKind
	fn   string
	file string
	line int
	// fns, for a generic function named without type arguments (fn is
	// then main.Sum), are its instantiations (main.Sum[go.shape.int], …):
	// the breakpoint covers them all, as in Delve.
	fns  []string
	addr uint64
	// addrs, when it has more than one element, are the addresses a
	// client gave for one logical breakpoint (addr is addrs[0]).
	addrs []uint64
}

// set creates the proc breakpoint of l.
func (l location) set(t *proc.Target) (*proc.Breakpoint, error) {
	switch l.kind {
	case locFunc:
		if len(l.fns) > 0 {
			pcs, err := l.funcPCs(t)
			if err != nil {
				return nil, err
			}
			return t.SetBreakpointAddrs(pcs)
		}
		return t.SetBreakpointFunc(l.fn)
	case locLine:
		return t.SetBreakpointLine(l.file, l.line)
	}
	if len(l.addrs) > 1 {
		return t.SetBreakpointAddrs(l.addrs)
	}
	return t.SetBreakpointAddr(l.addr)
}

// funcPCs returns the breakpoint addresses of a function location: those
// of fn, or of every instantiation in fns.
func (l location) funcPCs(t *proc.Target) ([]uint64, error) {
	if len(l.fns) == 0 {
		return t.Symbols().FuncEntryStmts(l.fn)
	}
	var pcs []uint64
	for _, fn := range l.fns {
		p, err := t.Symbols().FuncEntryStmts(fn)
		if err != nil {
			return nil, err
		}
		pcs = append(pcs, p...)
	}
	slices.Sort(pcs)
	return slices.Compact(pcs), nil
}

// exprString is the location expression that recreates l.
func (l location) exprString(bp *proc.Breakpoint) string {
	switch l.kind {
	case locFunc:
		return l.fn
	case locLine:
		return fmt.Sprintf("%s:%d", bp.File, bp.Line)
	}
	return fmt.Sprintf("*%#x", l.addr)
}

// FindLocation resolves a location spec in the scope of goroutine goid
// (-1: the selected one) and frame. Specs, as in Delve: func, pkg.func,
// Type.Method, file:line, func:line, line, +off, -off, *addr, /regexp/.
func (d *Debugger) FindLocation(goid int64, frame int, spec string) ([]api.Location, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if goid < 0 {
		goid = d.selectedG(t)
	}
	locs, err := d.findLocation(t, goid, frame, spec)
	if err != nil {
		return nil, err
	}
	out := make([]api.Location, 0, len(locs))
	for _, l := range locs {
		al, err := d.apiLocation(t, l)
		if err != nil {
			return nil, err
		}
		out = append(out, al)
	}
	return out, nil
}

// apiLocation describes where a breakpoint at l would stop. A function's
// location lists in PCs every address its breakpoint covers (out-of-line
// copy and inlined copies), so that a client setting a breakpoint on them
// gets one logical breakpoint, as proc's SetBreakpointFunc does.
func (d *Debugger) apiLocation(t *proc.Target, l location) (api.Location, error) {
	switch l.kind {
	case locFunc:
		pcs, err := l.funcPCs(t)
		if err != nil {
			return api.Location{}, err
		}
		if len(pcs) == 0 {
			return api.Location{}, fmt.Errorf("function %s has no code", l.fn)
		}
		// PC is the out-of-line copy's breakpoint address when there is
		// one, as before inlined copies were listed; else the first copy.
		pc := pcs[0]
		if fn, err := d.bi.LookupFunc(l.fn); err == nil {
			pc = d.bi.FirstPCAfterPrologue(fn)
		}
		loc := d.pcLocation(pc)
		if loc.Function != nil && loc.Function.Name_ != l.fn {
			// An inlined copy: name the function asked for, not its caller.
			f := *loc.Function
			f.Name_ = l.fn
			loc.Function = &f
		}
		d.funcEntryView(pc, l.fn).apply(&loc)
		loc.PCs = pcs
		return loc, nil
	case locLine:
		// The addresses SetBreakpointLine would use: the line's first
		// statement in each body, not its every row.
		pcs, err := t.Symbols().LineToPCs(l.file, l.line)
		if err != nil {
			return api.Location{}, err
		}
		if len(pcs) == 0 {
			return api.Location{}, fmt.Errorf("no code at %s:%d", l.file, l.line)
		}
		loc := d.pcLocation(pcs[0])
		loc.PCs = pcs
		if file, err := d.bi.ResolveFile(l.file); err == nil {
			loc.File = file
		}
		loc.Line = l.line
		return loc, nil
	}
	loc := d.pcLocation(l.addr)
	loc.PCs = []uint64{l.addr}
	return loc, nil
}

// pcLocation is the source position of pc.
func (d *Debugger) pcLocation(pc uint64) api.Location {
	file, line, fn := d.bi.PCToLine(pc)
	loc := api.Location{PC: pc, File: file, Line: line}
	if fn != nil {
		loc.Function = apiFunction(fn)
	}
	return loc
}

func apiFunction(fn *bininfo.Function) *api.Function {
	return &api.Function{Name_: fn.Name, Value: fn.Entry, Optimized: fn.Optimized()}
}

func (d *Debugger) findLocation(t *proc.Target, goid int64, frame int, spec string) ([]location, error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "":
		return nil, errors.New("empty location")
	case spec[0] == '*':
		addr, err := strconv.ParseUint(strings.TrimSpace(spec[1:]), 0, 64)
		if err != nil {
			return nil, fmt.Errorf("location %q: only numeric addresses are supported: %w", spec, err)
		}
		return []location{{kind: locAddr, addr: addr}}, nil
	case len(spec) > 1 && spec[0] == '/' && spec[len(spec)-1] == '/':
		re, err := regexp.Compile(spec[1 : len(spec)-1])
		if err != nil {
			return nil, fmt.Errorf("location %q: %w", spec, err)
		}
		var out []location
		for _, fn := range d.bi.FuncsMatching(re) {
			out = append(out, location{kind: locFunc, fn: fn.Name})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("location %q: no function matches", spec)
		}
		return out, nil
	case spec[0] == '+' || spec[0] == '-':
		off, err := strconv.Atoi(spec)
		if err != nil {
			return nil, fmt.Errorf("location %q: bad line offset: %w", spec, err)
		}
		file, line, err := d.scopeLine(t, goid, frame)
		if err != nil {
			return nil, err
		}
		return []location{{kind: locLine, file: file, line: line + off}}, nil
	}
	if n, err := strconv.Atoi(spec); err == nil {
		file, _, err := d.scopeLine(t, goid, frame)
		if err != nil {
			return nil, err
		}
		return []location{{kind: locLine, file: file, line: n}}, nil
	}
	if i := strings.LastIndexByte(spec, ':'); i > 0 {
		if n, err := strconv.Atoi(spec[i+1:]); err == nil {
			where := spec[:i]
			if file, err := d.bi.ResolveFile(where); err == nil {
				return []location{{kind: locLine, file: file, line: n}}, nil
			}
			name, ferr := d.matchFunc(spec, where)
			var amb *AmbiguousLocationError
			if errors.As(ferr, &amb) {
				return nil, ferr
			}
			if ferr != nil {
				return nil, fmt.Errorf("location %q: %q is neither a source file nor a function: %w", spec, where, ferr)
			}
			fn, err := d.bi.LookupFunc(name)
			if err != nil {
				return nil, fmt.Errorf("location %q: %w", spec, err)
			}
			// As in Delve, the line counts from the function's entry line:
			// main.add:1 is the line after "func add(".
			file, line := fn.DeclFile, fn.DeclLine
			if f, l, _ := d.bi.PCToLine(fn.Entry); f != "" && l > 0 {
				file, line = f, l
			}
			return []location{{kind: locLine, file: file, line: line + n}}, nil
		}
	}
	name, err := d.matchFunc(spec, spec)
	var amb *AmbiguousLocationError
	if errors.As(err, &amb) {
		return nil, err
	}
	if err != nil {
		if base, insts := d.genericInstances(spec); len(insts) > 0 {
			return []location{{kind: locFunc, fn: base, fns: insts}}, nil
		}
		return nil, fmt.Errorf("location %q: %w", spec, err)
	}
	return []location{{kind: locFunc, fn: name}}, nil
}

// genericInstances finds the generic function spec names without type
// arguments, matched as matchFunc matches names (main.Sum, Sum,
// main.(*Box).Put), and returns its name and instantiations; none when no
// function or more than one matches (an ambiguous name is reported as
// Delve reports it, with its candidates).
func (d *Debugger) genericInstances(spec string) (string, []string) {
	want := undecorate(spec)
	byBase := map[string][]string{}
	var bases []string
	for _, name := range d.bi.Functions() {
		if !strings.Contains(name, "[") {
			continue
		}
		base := withoutTypeParams(name)
		n := undecorate(base)
		if n != want && !strings.HasSuffix(n, "."+want) && !strings.HasSuffix(n, "/"+want) {
			continue
		}
		if byBase[base] == nil {
			bases = append(bases, base)
		}
		byBase[base] = append(byBase[base], name)
	}
	if len(bases) != 1 {
		return "", nil
	}
	return bases[0], byBase[bases[0]]
}

// scopeLine returns the file and line of frame of goroutine goid.
func (d *Debugger) scopeLine(t *proc.Target, goid int64, frame int) (string, int, error) {
	frames, err := d.goroutineFrames(t, goid, frame+1)
	if frame < len(frames) {
		// Only the frame asked for matters: a deeper stack, or one that
		// cannot be unwound past it, does not make it less known.
		err = nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("locating frame %d: %w", frame, err)
	}
	if frame >= len(frames) {
		return "", 0, fmt.Errorf("frame %d does not exist", frame)
	}
	if frame == 0 {
		// Relative specs count from the line the stop was reported at.
		if ths, err := t.Threads(); err == nil {
			for i := range ths {
				if v := d.threadView(&ths[i]); v != nil && ths[i].GoroutineID == goid && ths[i].Regs.PC() == frames[0].PC {
					return v.file, v.line, nil
				}
			}
		}
	}
	return frames[frame].File, frames[frame].Line, nil
}

// AmbiguousLocationError is a location spec naming more than one function.
// Its text is Delve's, candidates included (at most five, sorted here
// where Delve's order is a map's).
type AmbiguousLocationError struct {
	Location   string
	Candidates []string
}

func (e *AmbiguousLocationError) Error() string {
	return fmt.Sprintf("Location %q ambiguous: %s…", e.Location, strings.Join(e.Candidates, ", "))
}

// maxLocationCandidates is how many candidates an ambiguous spec lists, as in Delve.
const maxLocationCandidates = 5

// matchFunc resolves a possibly partial function name the way Delve
// does: an exact name, or a unique function whose name ends with
// ".name" or "/name", ignoring the (*T) decoration of methods. Several
// matches are an AmbiguousLocationError for spec, even when one is in
// package main: Delve does not guess either.
func (d *Debugger) matchFunc(spec, name string) (string, error) {
	if fn, err := d.bi.LookupFunc(name); err == nil {
		return fn.Name, nil
	}
	want := undecorate(name)
	match := func(names []string) []string {
		var out []string
		for _, name := range names {
			n := undecorate(name)
			if n == want || strings.HasSuffix(n, "."+want) || strings.HasSuffix(n, "/"+want) {
				out = append(out, name)
			}
		}
		return out
	}
	matches := match(d.bi.Functions())
	if len(matches) != 1 {
		// A function inlined at every call site has no symbol, only
		// inlined copies; indexing those walks all of DWARF, so only
		// names that symbols do not settle pay for it.
		if names, err := d.bi.InlinedFuncNames(); err == nil {
			for _, n := range match(names) {
				if !slices.Contains(matches, n) {
					matches = append(matches, n)
				}
			}
		}
	}
	switch len(matches) {
	case 0:
		_, err := d.bi.LookupFunc(name) // its error names close matches
		return "", err
	case 1:
		return matches[0], nil
	}
	sort.Strings(matches)
	if len(matches) > maxLocationCandidates {
		matches = matches[:maxLocationCandidates]
	}
	return "", &AmbiguousLocationError{Location: spec, Candidates: matches}
}

// undecorate turns "main.(*Point).Scale" into "main.Point.Scale".
func undecorate(name string) string {
	return strings.NewReplacer("(*", "", ")", "").Replace(name)
}
