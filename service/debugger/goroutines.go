package debugger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// convertG describes g; ths are the target's threads, to find its registers.
func (d *Debugger) convertG(t *proc.Target, g *goroutine.G, ths []proc.ThreadInfo) *api.Goroutine {
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
		GoStatementLoc: d.apiLoc(goroutine.GoLoc(d.bi, g)),
		StartLoc:       d.apiLoc(goroutine.StartLoc(d.bi, g)),
	}
	var rp *arch.Registers
	if regs != nil {
		rr := regs.Regs
		rp = &rr
	}
	cur := goroutine.CurrentLoc(d.bi, g, rp)
	out.CurrentLoc = d.apiLoc(cur)
	if regs != nil {
		d.threadView(regs).apply(&out.CurrentLoc)
	}
	out.UserCurrentLoc = out.CurrentLoc
	if rp == nil || !d.userCodeAt(rp.Rip, cur.File) {
		// Only a goroutine inside runtime machinery needs its stack
		// walked to find the user frame; one stopped in user code (any
		// breakpoint in the program) is its own user frame.
		frames, _ := goroutine.Stacktrace(d.unw, t.Process(), g, rp, 32)
		if f, ok := goroutine.UserFrame(frames); ok {
			out.UserCurrentLoc = d.apiLoc(goroutine.FrameLoc(f))
		}
	}
	ex := d.gExtra(t, g)
	out.WaitReason, out.WaitSince = ex.waitReason, ex.waitSince
	out.Labels = d.gLabels(t, ex.labels)
	return out
}

// userCodeAt reports whether the innermost logical frame at pc (in file)
// is user code by the rule goroutine.UserFrame applies to unwound frames,
// so the answer matches what an unwind would find first.
func (d *Debugger) userCodeAt(pc uint64, file string) bool {
	fn := d.bi.PCToFunc(pc)
	if fn == nil {
		return false
	}
	name := fn.Name
	if inl := d.bi.InlinedCallsAt(pc); len(inl) > 0 {
		name = inl[0].Func
	}
	_, ok := goroutine.UserFrame([]stack.Frame{{PC: pc, Func: stack.Func{Name: name}, File: file}})
	return ok
}

// gOffsets are the offsets of runtime.g fields the goroutine package does
// not decode; -1 when the runtime lacks the field.
type gOffsets struct {
	waitReason, waitSince, labels int64
}

// gFields returns the offsets of the extra runtime.g fields, computed once
// per binary.
func (d *Debugger) gFields() gOffsets {
	prog, err := d.program()
	if err != nil {
		return gOffsets{-1, -1, -1}
	}
	vs := d.vars
	if vs.gOff != nil {
		return *vs.gOff
	}
	off := gOffsets{-1, -1, -1}
	if rt, err := d.bi.RuntimeLayout(); err == nil {
		off.waitReason, off.labels = rt.G.Waitreason, rt.G.Labels
	}
	if typ, err := prog.Types.ByName("runtime.g"); err == nil {
		if st, ok := godwarf.ResolveTypedef(typ).(*godwarf.StructType); ok {
			if f := st.Field("waitsince"); f != nil {
				off.waitSince = f.ByteOffset
			}
		}
	}
	vs.gOff = &off
	return off
}

// gExtraFields are the runtime.g fields the goroutine package does not
// decode, as read from one goroutine.
type gExtraFields struct {
	waitReason, waitSince int64
	labels                uint64 // g.labels, 0 when unset
}

// gExtra reads g.waitreason, g.waitsince and g.labels in one read of the
// span of runtime.g that holds them. The wait fields are sent as Delve
// sends them: the runtime's numeric waitReason (clients name it for the
// target's Go version) and the nanotime the wait began.
func (d *Debugger) gExtra(t *proc.Target, g *goroutine.G) gExtraFields {
	off := d.gFields()
	lo, hi := int64(-1), int64(-1)
	for _, f := range []struct{ off, size int64 }{{off.waitReason, 1}, {off.waitSince, 8}, {off.labels, 8}} {
		if f.off < 0 {
			continue
		}
		if lo < 0 || f.off < lo {
			lo = f.off
		}
		hi = max(hi, f.off+f.size)
	}
	var out gExtraFields
	if lo < 0 {
		return out
	}
	buf := make([]byte, hi-lo)
	if n, err := t.Process().ReadMemory(buf, g.Addr+uint64(lo)); err != nil || n != len(buf) {
		return out
	}
	if off.waitReason >= 0 {
		out.waitReason = int64(buf[off.waitReason-lo])
	}
	if off.waitSince >= 0 {
		out.waitSince = int64(binary.LittleEndian.Uint64(buf[off.waitSince-lo:]))
	}
	if off.labels >= 0 {
		out.labels = binary.LittleEndian.Uint64(buf[off.labels-lo:])
	}
	return out
}

// maxLabels bounds the labels read from one goroutine.
const maxLabels = 64

// labelLoad reads label sets whole: they are a few short strings.
var labelLoad = value.LoadConfig{FollowPointers: true, MaxVariableRecurse: 3, MaxStringLen: 1024, MaxArrayValues: maxLabels, MaxStructFields: -1}

// gLabels reads the pprof labels a goroutine's g.labels (ptr) points to:
// a runtime/pprof.labelMap, a map before Go 1.24, a sorted list of
// key/value pairs since; nil when it has none.
func (d *Debugger) gLabels(t *proc.Target, ptr uint64) map[string]string {
	if ptr == 0 {
		return nil
	}
	prog, err := d.program()
	if err != nil {
		return nil
	}
	typ, err := prog.Types.ByName("runtime/pprof.labelMap")
	if err != nil {
		return nil // the program never set labels
	}
	l := &value.Loader{Mem: t.Process(), Types: prog.Types, Funcs: prog}
	v := l.Load("labels", ptr, typ, labelLoad)
	if v.Unreadable != nil {
		return nil
	}
	out := map[string]string{}
	switch v.Kind {
	case reflect.Map:
		for i := 0; i+1 < len(v.Children); i += 2 {
			out[v.Children[i].Value] = v.Children[i+1].Value
		}
	case reflect.Struct:
		list := childNamed(childNamed(v, "LabelSet", "Set"), "list", "List")
		if list == nil {
			return nil
		}
		for _, kv := range list.Children {
			if len(kv.Children) == 2 {
				out[kv.Children[0].Value] = kv.Children[1].Value
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// childNamed returns the first child of v called one of names.
func childNamed(v *value.Variable, names ...string) *value.Variable {
	if v == nil {
		return nil
	}
	for i := range v.Children {
		for _, n := range names {
			if v.Children[i].Name == n {
				return &v.Children[i]
			}
		}
	}
	return nil
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
	for _, g := range all[start:end] {
		ag := d.convertG(t, g, ths)
		if matchesAll(g, ag, filters) {
			kept = append(kept, ag)
		}
	}
	if group.GroupBy == api.GoroutineFieldNone {
		out.Goroutines = kept
		return out, nil
	}
	out.Goroutines, out.Groups, out.TooManyGroups = groupGoroutines(all, kept, group)
	return out, nil
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
