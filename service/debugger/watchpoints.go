package debugger

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// errNoDisableWatch is Delve's refusal to toggle a watchpoint: the
// address of a stack variable cannot be found again once disabled.
var errNoDisableWatch = errors.New("can not disable watchpoints")

// CreateWatchpoint watches the memory expr designates, evaluated in frame
// of goroutine goid (-1: the selected one), as Delve's CreateWatchpoint.
func (d *Debugger) CreateWatchpoint(goid int64, frame int, expr string, wtype api.WatchType) (*api.Breakpoint, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	goid = d.scopeGoroutine(t, goid)
	v, err := d.watchedVar(t, goid, frame, expr)
	if err != nil {
		return nil, err
	}
	if v.Addr == 0 || value.IsSynthetic(v.Addr) || v.DwarfType == nil {
		return nil, fmt.Errorf("can not watch %q", expr)
	}
	if v.Unreadable != nil {
		return nil, fmt.Errorf("expression %q is unreadable: %v", expr, v.Unreadable)
	}
	if v.Kind == reflect.UnsafePointer || v.Kind == reflect.Invalid {
		return nil, fmt.Errorf("can not watch variable of type %s", v.Kind)
	}
	size := v.DwarfType.Size()
	if size <= 0 || size > 8 {
		return nil, fmt.Errorf("can not watch variable of type %s", v.Type)
	}
	scope, err := d.watchScope(t, goid, frame, v.Addr)
	if err != nil {
		return nil, err
	}
	pbp, err := t.SetWatchpoint(expr, proc.WatchType(wtype), v.Addr, int(size), scope)
	if err != nil {
		return nil, err
	}
	spec := api.Breakpoint{ID: d.nextBP, WatchExpr: expr, WatchType: wtype}
	if d.byName(expr) == nil {
		spec.Name = expr // as Delve names it, so that "clear x" works
	}
	d.nextBP++
	ub := &userBreakpoint{spec: spec, pbp: pbp, perG: map[int64]uint64{}, watchType: v.DwarfType}
	d.bps[spec.ID] = ub
	return d.convertBreakpoint(ub), nil
}

// watchedVar evaluates expr where the watchpoint is asked for; without a
// frame (no goroutine, or a C thread) only package variables are found.
func (d *Debugger) watchedVar(t *proc.Target, goid int64, frame int, expr string) (*value.Variable, error) {
	cfg := value.LoadConfig{MaxStringLen: 64, MaxArrayValues: 64, MaxStructFields: -1}
	sc, err := d.scope(t, goid, frame)
	if err == nil {
		return sc.Eval(expr, cfg)
	}
	pv, perr := d.bi.LookupPackageVar(expr)
	if perr != nil {
		return nil, err
	}
	prog, perr := d.program()
	if perr != nil {
		return nil, perr
	}
	typ, perr := prog.Types.Type(pv.Type)
	if perr != nil {
		return nil, fmt.Errorf("type of %s: %w", pv.Name, perr)
	}
	return value.Load(t.Process(), pv.Addr, typ, cfg), nil
}

// watchScope says where a watched address on goroutine goid's stack lives:
// the frame whose return ends the watch. It is nil for other addresses.
func (d *Debugger) watchScope(t *proc.Target, goid int64, frame int, addr uint64) (*proc.WatchScope, error) {
	if goid == 0 {
		return nil, nil
	}
	g, err := d.findG(t, goid)
	if err != nil || g.StackHi == 0 || addr < g.StackLo || addr >= g.StackHi {
		return nil, nil
	}
	frames, err := d.goroutineFrames(t, goid, frame+16)
	if err != nil && len(frames) <= frame {
		return nil, err
	}
	// The variable's frame is the physical one its (inlined) frame is in.
	i := frame
	for i < len(frames) && frames[i].Inlined {
		i++
	}
	if i+1 >= len(frames) {
		return nil, fmt.Errorf("can not watch %#x: frame %d has no caller to return to", addr, frame)
	}
	rt, err := d.bi.RuntimeLayout()
	if err != nil {
		return nil, err
	}
	if rt.G.StackHi < 0 {
		return nil, errors.New("can not watch stack variables: runtime.g has no stack.hi")
	}
	return &proc.WatchScope{Goroutine: goid, StackHi: g.StackHi, StackHiAddr: g.Addr + uint64(rt.G.StackHi),
		RetPC: frames[i+1].PC, CFA: frames[i].CFA}, nil
}

// watchValues renders the watched value before and after the access that
// stopped the program, through the overlay, with the watched type.
func (d *Debugger) watchValues(t *proc.Target, ub *userBreakpoint, ch *proc.WatchChange) (before, after *api.Variable) {
	if ub == nil || ub.watchType == nil || ch == nil {
		return nil, nil
	}
	prog, err := d.program()
	if err != nil {
		return nil, nil
	}
	ov := &value.Overlay{Parent: t.Process()}
	l := &value.Loader{Mem: ov, Types: prog.Types, Funcs: prog}
	render := func(b []byte) *api.Variable {
		addr, err := ov.Alloc(append([]byte(nil), b...))
		if err != nil {
			return nil
		}
		v := api.ConvertVar(l.Load(ub.spec.WatchExpr, addr, ub.watchType, api.LoadConfigToValue(api.DefaultLoadConfig)))
		return &v
	}
	return render(ch.Old), render(ch.New)
}

// dropOutOfScope forgets the watchpoints a stop cleared and describes
// them for the stop's state.
func (d *Debugger) dropOutOfScope(stop proc.Stop) []*api.Breakpoint {
	var out []*api.Breakpoint
	for _, pbp := range stop.WatchOutOfScope {
		if ub := d.bpOf(pbp); ub != nil {
			out = append(out, d.convertBreakpoint(ub))
			delete(d.bps, ub.spec.ID)
		}
	}
	return out
}

// describeWatchStop adds to st what a watchpoint stop tells: the values
// of the watchpoint hit and the watchpoints gone out of scope.
func (d *Debugger) describeWatchStop(t *proc.Target, stop proc.Stop, gone []*api.Breakpoint, st *api.DebuggerState) {
	st.WatchOutOfScope = gone
	if stop.Watch == nil || st.CurrentThread == nil || st.CurrentThread.ID != stop.ThreadID {
		return
	}
	st.CurrentThread.WatchOld, st.CurrentThread.WatchNew = d.watchValues(t, d.bpOf(stop.Breakpoint), stop.Watch)
}
