package debugger

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/service/api"
)

// convertG describes g; ths are the target's threads, to find its registers.
func (d *Debugger) convertG(t *proc.Target, g *goroutine.G, ths []proc.ThreadInfo) *api.Goroutine {
	return d.convertGWith(t, g, ths, nil)
}

// locMemo keeps the locations a listing has resolved, by address: the
// goroutines of a program mostly share a few go statements, start
// functions and park sites, and resolving each (line tables, a wrapper's
// decoded call) costs more than the rest of a goroutine's description.
type locMemo struct {
	locs  map[memoKey]api.Location
	funcs map[uint64]*api.Function
}

// memoKey names one kind of location of the goroutines at one address.
type memoKey struct {
	kind byte // 'g' go statement, 's' start, 'p' park site
	pc   uint64
}

func newLocMemo() *locMemo {
	return &locMemo{locs: map[memoKey]api.Location{}, funcs: map[uint64]*api.Function{}}
}

// memoLoc returns the location of that kind at pc, resolving it on first
// use; without a memo it just resolves.
func (d *Debugger) memoLoc(m *locMemo, kind byte, pc uint64, resolve func() goroutine.Location) api.Location {
	if m == nil {
		return d.apiLoc(resolve())
	}
	key := memoKey{kind, pc}
	if l, ok := m.locs[key]; ok {
		return l
	}
	l := d.memoAPILoc(m, resolve())
	m.locs[key] = l
	return l
}

// memoAPILoc is apiLoc with the function descriptions shared through m.
func (d *Debugger) memoAPILoc(m *locMemo, l goroutine.Location) api.Location {
	if m == nil {
		return d.apiLoc(l)
	}
	out := api.Location{PC: l.PC, File: l.File, Line: l.Line}
	fn, ok := m.funcs[l.PC]
	if !ok {
		if f := d.bi.PCToFunc(l.PC); f != nil {
			fn = apiFunction(f)
		}
		m.funcs[l.PC] = fn
	}
	out.Function = fn
	return out
}

// convertGWith is convertG resolving locations through m (nil: none).
func (d *Debugger) convertGWith(t *proc.Target, g *goroutine.G, ths []proc.ThreadInfo, m *locMemo) *api.Goroutine {
	var regs *proc.ThreadInfo
	if g.ThreadID != 0 {
		for i := range ths {
			if ths[i].ID == g.ThreadID {
				regs = &ths[i]
			}
		}
	}
	out := &api.Goroutine{
		ID: int64(g.ID), ThreadID: g.ThreadID, Status: uint64(g.Status),
		GoStatementLoc: d.memoLoc(m, 'g', g.GoPC, func() goroutine.Location { return goroutine.GoLoc(d.bi, g) }),
		StartLoc:       d.memoLoc(m, 's', g.StartPC, func() goroutine.Location { return goroutine.StartLoc(d.bi, g) }),
	}
	var rp *arch.Registers
	if regs != nil {
		rr := regs.Regs
		rp = &rr
	}
	inUserCode := false
	if rp == nil {
		out.CurrentLoc = d.memoLoc(m, 'p', g.Sched.PC, func() goroutine.Location { return goroutine.CurrentLoc(d.bi, g, nil) })
	} else {
		cur := goroutine.CurrentLoc(d.bi, g, rp)
		out.CurrentLoc = d.apiLoc(cur)
		inUserCode = d.userCodeAt(rp.Rip)
	}
	if regs != nil {
		d.threadView(regs).apply(&out.CurrentLoc)
	}
	out.UserCurrentLoc = out.CurrentLoc
	if !inUserCode {
		// Only a goroutine inside runtime machinery needs its stack
		// walked to find the user frame; one stopped in user code (any
		// breakpoint in the program) is its own user frame. The
		// unwinder's depth counts inlined frames too: with some among the
		// first UserDepth, fewer physical frames are looked at than the
		// UserDepth Delve looks at (a user frame that deep is rare).
		frames, _ := goroutine.Stacktrace(d.unw, t.Process(), g, rp, goroutine.UserDepth)
		if f, ok := goroutine.UserFrame(frames); ok {
			out.UserCurrentLoc = d.memoAPILoc(m, goroutine.FrameLoc(f))
		}
	}
	ex := d.gLayout().ReadExtra(t.Process(), g)
	out.WaitReason, out.WaitSince = ex.WaitReason, ex.WaitSince
	out.Labels = d.gLabels(t, ex.Labels)
	return out
}

// userCodeAt reports whether the innermost logical frame at pc is user
// code by the rule goroutine.UserFrame applies to unwound frames, so the
// answer matches what an unwind would find first.
func (d *Debugger) userCodeAt(pc uint64) bool {
	fn := d.bi.PCToFunc(pc)
	if fn == nil {
		return false
	}
	name := fn.Name
	if inl := d.bi.InlinedCallsAt(pc); len(inl) > 0 {
		name = inl[0].Func
	}
	return goroutine.IsUserFunc(name)
}

// gLayout returns where the goroutine list's extra runtime.g fields are,
// computed once per binary.
func (d *Debugger) gLayout() goroutine.ExtraLayout {
	prog, err := d.program()
	if err != nil {
		return goroutine.NewExtraLayout(nil, nil)
	}
	if d.vars.gOff == nil {
		off := goroutine.NewExtraLayout(d.bi, prog.Types)
		d.vars.gOff = &off
	}
	return *d.vars.gOff
}

// gLabels reads the pprof labels at ptr (g.labels); nil when it has none.
func (d *Debugger) gLabels(t *proc.Target, ptr uint64) map[string]string {
	prog, err := d.program()
	if err != nil {
		return nil
	}
	return goroutine.Labels(t.Process(), prog.Types, prog, ptr)
}

// Goroutines lists goroutines from index start, at most count of them
// (0: all). next is the index to continue from, -1 at the end.
func (d *Debugger) Goroutines(start, count int) (gs []*api.Goroutine, next int, err error) {
	gl, err := d.ListGoroutines(start, count, nil, api.GoroutineGroupingOptions{})
	if err != nil {
		return nil, 0, err
	}
	return gl.Goroutines, gl.Next, nil
}

// GoroutineList is one page of goroutines, filtered and grouped.
type GoroutineList struct {
	// Goroutines are the kept goroutines; when grouped, each group's
	// members are consecutive, as Groups describe.
	Goroutines []*api.Goroutine
	Groups     []api.GoroutineGroup
	// Next is the index to list from next, -1 at the end.
	Next int
	// TooManyGroups is set when groups beyond MaxGroups were dropped.
	TooManyGroups bool
}

// ListGoroutines lists the goroutines at index [start, start+count) of the
// runtime's list (count 0: to the end), keeps those matching every filter
// and groups them, with the semantics of Delve's ListGoroutines: paging
// comes first, groups are sorted by name and hold at most MaxGroupMembers
// goroutines each while counting all of them.
func (d *Debugger) ListGoroutines(start, count int, filters []api.ListGoroutinesFilter, group api.GoroutineGroupingOptions) (*GoroutineList, error) {
	for _, f := range filters {
		if f.Kind == api.GoroutineWaitingOnChannel {
			return nil, errors.New("filtering goroutines by channel is not supported by tinydbg")
		}
	}
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	all, err := d.listG(t)
	if err != nil {
		return nil, err
	}
	ths, err := t.Threads()
	if err != nil {
		return nil, err
	}
	start = min(max(start, 0), len(all))
	out := &GoroutineList{Next: -1}
	end := len(all)
	if count > 0 && start+count < len(all) {
		end, out.Next = start+count, start+count
	}
	var kept []*api.Goroutine
	memo := newLocMemo()
	for _, g := range all[start:end] {
		ag := d.convertGWith(t, g, ths, memo)
		if matchesAll(g, ag, filters) {
			kept = append(kept, ag)
		}
	}
	return out.group(all, kept, group), nil
}

// group fills l with the kept goroutines, grouped as opt asks; all is the
// full runtime list.
func (l *GoroutineList) group(all []*goroutine.G, kept []*api.Goroutine, opt api.GoroutineGroupingOptions) *GoroutineList {
	if opt.GroupBy == api.GoroutineFieldNone {
		l.Goroutines = kept
		return l
	}
	l.Goroutines, l.Groups, l.TooManyGroups = groupGoroutines(all, kept, opt)
	return l
}

// matchesAll reports whether g (ag on the wire) passes every filter.
func matchesAll(g *goroutine.G, ag *api.Goroutine, filters []api.ListGoroutinesFilter) bool {
	for _, f := range filters {
		if matchFilter(g, ag, f) == f.Negated {
			return false
		}
	}
	return true
}

// matchFilter evaluates one filter, ignoring its negation.
func matchFilter(g *goroutine.G, ag *api.Goroutine, f api.ListGoroutinesFilter) bool {
	switch f.Kind {
	case api.GoroutineCurrentLoc, api.GoroutineUserLoc, api.GoroutineGoLoc, api.GoroutineStartLoc:
		return strings.Contains(locKey(ag, f.Kind), f.Arg)
	case api.GoroutineLabel:
		if k, v, ok := strings.Cut(f.Arg, "="); ok {
			return ag.Labels[k] == v
		}
		_, ok := ag.Labels[f.Arg]
		return ok
	case api.GoroutineRunning:
		return g.ThreadID != 0
	case api.GoroutineUser:
		return !g.System
	}
	return true
}

// locKey renders a location of ag as Delve's filters and groups see it:
// "FILE:LINE in FUNCTION".
func locKey(ag *api.Goroutine, f api.GoroutineField) string {
	var l api.Location
	switch f {
	case api.GoroutineCurrentLoc:
		l = ag.CurrentLoc
	case api.GoroutineUserLoc:
		l = ag.UserCurrentLoc
	case api.GoroutineGoLoc:
		l = ag.GoStatementLoc
	case api.GoroutineStartLoc:
		l = ag.StartLoc
	}
	name := "?"
	if l.Function != nil {
		name = l.Function.Name_
	}
	return fmt.Sprintf("%s:%d in %s", l.File, l.Line, name)
}

// groupGoroutines groups kept goroutines by opt.GroupBy; all is the full
// runtime list, to know which goroutines are system ones.
func groupGoroutines(all []*goroutine.G, kept []*api.Goroutine, opt api.GoroutineGroupingOptions) ([]*api.Goroutine, []api.GoroutineGroup, bool) {
	system := map[int64]bool{}
	for _, g := range all {
		system[int64(g.ID)] = g.System
	}
	members := map[string][]*api.Goroutine{}
	totals := map[string]int{}
	for _, ag := range kept {
		var key string
		switch opt.GroupBy {
		case api.GoroutineCurrentLoc, api.GoroutineUserLoc, api.GoroutineGoLoc, api.GoroutineStartLoc:
			key = locKey(ag, opt.GroupBy)
		case api.GoroutineLabel:
			key = fmt.Sprintf("%s=%s", opt.GroupByKey, ag.Labels[opt.GroupByKey])
		case api.GoroutineRunning:
			key = fmt.Sprintf("running=%v", ag.ThreadID != 0)
		case api.GoroutineUser:
			key = fmt.Sprintf("user=%v", !system[ag.ID])
		}
		if len(members[key]) < opt.MaxGroupMembers {
			members[key] = append(members[key], ag)
		}
		totals[key]++
	}
	keys := make([]string, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var gs []*api.Goroutine
	var groups []api.GoroutineGroup
	for _, k := range keys {
		if opt.MaxGroups > 0 && len(groups) >= opt.MaxGroups {
			return gs, groups, true
		}
		groups = append(groups, api.GoroutineGroup{Name: k, Offset: len(gs), Count: len(members[k]), Total: totals[k]})
		gs = append(gs, members[k]...)
	}
	return gs, groups, false
}
