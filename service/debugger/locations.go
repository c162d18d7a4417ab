package debugger

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/service/api"
)

// locKind says how a location is turned into a breakpoint.
type locKind int

const (
	locFunc locKind = iota // after the prologue of fn
	locLine                // every address of file:line
	locAddr                // one address
)

// location is a resolved location spec, kept by breakpoints so they can be
// set again after a disable or a restart.
type location struct {
	kind locKind
	fn   string
	file string
	line int
	addr uint64
}

// set creates the proc breakpoint of l.
func (l location) set(t *proc.Target) (*proc.Breakpoint, error) {
	switch l.kind {
	case locFunc:
		return t.SetBreakpointFunc(l.fn)
	case locLine:
		return t.SetBreakpointLine(l.file, l.line)
	}
	return t.SetBreakpointAddr(l.addr)
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
		al, err := d.apiLocation(l)
		if err != nil {
			return nil, err
		}
		out = append(out, al)
	}
	return out, nil
}

// apiLocation describes where a breakpoint at l would stop.
func (d *Debugger) apiLocation(l location) (api.Location, error) {
	switch l.kind {
	case locFunc:
		fn, err := d.bi.LookupFunc(l.fn)
		if err != nil {
			return api.Location{}, err
		}
		pc := d.bi.FirstStmtAfterPrologue(fn)
		loc := d.pcLocation(pc)
		d.funcEntryView(pc, fn.Name).apply(&loc)
		loc.PCs = []uint64{pc}
		return loc, nil
	case locLine:
		pcs, err := d.bi.LineToPCs(l.file, l.line)
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
			name, ferr := d.matchFunc(where)
			if ferr != nil {
				return nil, fmt.Errorf("location %q: %q is neither a source file nor a function: %w", spec, where, ferr)
			}
			fn, _ := d.bi.LookupFunc(name)
			return []location{{kind: locLine, file: fn.DeclFile, line: n}}, nil
		}
	}
	name, err := d.matchFunc(spec)
	if err != nil {
		return nil, fmt.Errorf("location %q: %w", spec, err)
	}
	return []location{{kind: locFunc, fn: name}}, nil
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

// matchFunc resolves a possibly partial function name the way Delve
// does: an exact name, or a unique function whose name ends with
// ".spec" or "/spec", ignoring the (*T) decoration of methods; among
// several, a single one in package main wins.
func (d *Debugger) matchFunc(spec string) (string, error) {
	if fn, err := d.bi.LookupFunc(spec); err == nil {
		return fn.Name, nil
	}
	want := undecorate(spec)
	var matches []string
	for _, name := range d.bi.Functions() {
		n := undecorate(name)
		if n == want || strings.HasSuffix(n, "."+want) || strings.HasSuffix(n, "/"+want) {
			matches = append(matches, name)
		}
	}
	switch len(matches) {
	case 0:
		_, err := d.bi.LookupFunc(spec) // its error names close matches
		return "", err
	case 1:
		return matches[0], nil
	}
	// The program's own code is what users mean most of the time.
	var inMain []string
	for _, m := range matches {
		if strings.HasPrefix(m, "main.") {
			inMain = append(inMain, m)
		}
	}
	if len(inMain) == 1 {
		return inMain[0], nil
	}
	if len(matches) > 5 {
		matches = append(matches[:5], "…")
	}
	return "", fmt.Errorf("ambiguous function name, it matches %s", strings.Join(matches, ", "))
}

// undecorate turns "main.(*Point).Scale" into "main.Point.Scale".
func undecorate(name string) string {
	return strings.NewReplacer("(*", "", ")", "").Replace(name)
}
