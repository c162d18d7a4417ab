package debugger

import (
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/service/api"
)

// Threads lists the threads of the stopped target.
func (d *Debugger) Threads() ([]*api.Thread, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ths, err := t.Threads()
	if err != nil {
		return nil, err
	}
	out := make([]*api.Thread, 0, len(ths))
	for i := range ths {
		out = append(out, d.convertThread(&ths[i]))
	}
	return out, nil
}

func (d *Debugger) convertThread(th *proc.ThreadInfo) *api.Thread {
	out := &api.Thread{ID: th.ID, PC: th.Regs.PC(), File: th.File, Line: th.Line, GoroutineID: th.GoroutineID}
	if v := d.threadView(th); v != nil {
		out.File, out.Line = v.file, v.line
	}
	if fn := d.bi.PCToFunc(out.PC); fn != nil {
		out.Function = apiFunction(fn)
	}
	if ub := d.bpOf(th.Breakpoint); ub != nil {
		out.Breakpoint = d.convertBreakpoint(ub)
	}
	return out
}

// findG returns goroutine goid.
func (d *Debugger) findG(t *proc.Target, goid int64) (*goroutine.G, error) {
	gs, err := d.listG(t)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		if int64(g.ID) == goid {
			return g, nil
		}
	}
	return nil, fmt.Errorf("unknown goroutine %d", goid)
}

// threadRegsOf returns the registers of the thread running goid, if any.
func threadRegsOf(ths []proc.ThreadInfo, goid int64) *proc.ThreadInfo {
	for i := range ths {
		if goid != 0 && ths[i].GoroutineID == goid {
			return &ths[i]
		}
	}
	return nil
}

// goroutineFrames unwinds up to depth frames of goroutine goid (0: the
// selected thread, even when it runs no goroutine). Reaching depth is not
// an error.
func (d *Debugger) goroutineFrames(t *proc.Target, goid int64, depth int) ([]stack.Frame, error) {
	frames, err := d.unwindG(t, goid, depth)
	if errors.Is(err, stack.ErrMaxDepth) && len(frames) > 0 {
		err = nil
	}
	return frames, err
}

func (d *Debugger) unwindG(t *proc.Target, goid int64, depth int) ([]stack.Frame, error) {
	ths, err := t.Threads()
	if err != nil {
		return nil, err
	}
	if goid == 0 {
		for i := range ths {
			if ths[i].ID == t.SelectedThread() {
				regs := ths[i].Regs
				return d.unw.Unwind(t.Process(), stack.FromRegistersFP(&regs, ths[i].LoadFP), stack.Options{MaxDepth: depth})
			}
		}
		return nil, fmt.Errorf("no selected thread")
	}
	if ti := threadRegsOf(ths, goid); ti != nil {
		regs := ti.Regs
		g, err := goroutine.Current(d.bi, t.Process(), &regs)
		if err == nil && g != nil {
			return goroutine.StacktraceFP(d.unw, t.Process(), g, &regs, ti.LoadFP, depth)
		}
	}
	g, err := d.findG(t, goid)
	if err != nil {
		return nil, err
	}
	return goroutine.Stacktrace(d.unw, t.Process(), g, nil, depth)
}

// apiLoc converts a goroutine package location.
func (d *Debugger) apiLoc(l goroutine.Location) api.Location {
	out := api.Location{PC: l.PC, File: l.File, Line: l.Line}
	if fn := d.bi.PCToFunc(l.PC); fn != nil {
		out.Function = apiFunction(fn)
	}
	return out
}

// Stacktrace returns up to depth+1 frames of goroutine goid (-1: the
// selected one), skipping the first skip. With cfg set, each frame carries
// its arguments and locals.
func (d *Debugger) Stacktrace(goid int64, depth, skip int, cfg *api.LoadConfig) ([]api.Stackframe, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if goid < 0 {
		goid = d.selectedG(t)
	}
	frames, err := d.goroutineFrames(t, goid, depth+1)
	if err != nil && len(frames) == 0 {
		return nil, err
	}
	var stackHi uint64
	if goid != 0 {
		if g, err := d.findG(t, goid); err == nil {
			stackHi = g.StackHi
		}
	}
	out := make([]api.Stackframe, 0, len(frames))
	for i, f := range frames {
		if i < skip {
			continue
		}
		sf := api.Stackframe{Location: api.Location{PC: f.PC, File: f.File, Line: f.Line}}
		if fn := d.bi.PCToFunc(f.PC); fn != nil {
			sf.Function = apiFunction(fn)
			if f.Inlined && f.Func.Name != "" {
				sf.Function.Name_ = f.Func.Name
			}
		}
		if stackHi != 0 {
			sf.FrameOffset = int64(f.CFA) - int64(stackHi)
			if f.BP != 0 {
				sf.FramePointerOffset = int64(f.BP) - int64(stackHi)
			}
		}
		if cfg != nil {
			args, aerr := d.frameVars(t, goid, i, *cfg, true)
			locals, lerr := d.frameVars(t, goid, i, *cfg, false)
			sf.Arguments, sf.Locals = args, locals
			if aerr != nil {
				sf.Err = aerr.Error()
			} else if lerr != nil {
				sf.Err = lerr.Error()
			}
		}
		out = append(out, sf)
	}
	// The outermost function is the bottom however many frames were
	// asked for: a stack of exactly depth+1 frames is complete too.
	if len(frames) > 0 && len(out) > 0 {
		last := frames[len(frames)-1].Func.Name
		out[len(out)-1].Bottom = last == "runtime.goexit" || last == "runtime.rt0_go" || last == "runtime.mstart"
	}
	return out, nil
}

// fillBreakpointInfo collects what the breakpoint thread th stopped on
// asked for; g is th's goroutine when already described, else nil.
func (d *Debugger) fillBreakpointInfo(t *proc.Target, th *api.Thread, g *api.Goroutine) {
	if th == nil || th.Breakpoint == nil {
		return
	}
	bp := th.Breakpoint
	if !bp.Goroutine && bp.Stacktrace == 0 && len(bp.Variables) == 0 && bp.LoadArgs == nil && bp.LoadLocals == nil {
		return
	}
	info := &api.BreakpointInfo{}
	if bp.Goroutine {
		info.Goroutine = g
	}
	goid := th.GoroutineID
	if bp.Stacktrace > 0 {
		if frames, err := d.goroutineFrames(t, goid, bp.Stacktrace+1); err == nil {
			for _, f := range frames {
				info.Stacktrace = append(info.Stacktrace, api.Stackframe{Location: d.pcLocation(f.PC)})
			}
		}
	}
	if bp.LoadArgs != nil {
		info.Arguments, _ = d.frameVars(t, goid, 0, *bp.LoadArgs, true)
	}
	if bp.LoadLocals != nil {
		info.Locals, _ = d.frameVars(t, goid, 0, *bp.LoadLocals, false)
	}
	for _, expr := range bp.Variables {
		v, err := d.evalLocked(t, goid, 0, d.curgExpr(t, goid, expr), api.DefaultLoadConfig)
		if err == nil {
			v.Name = expr
		} else {
			v = &api.Variable{Name: expr, Unreadable: err.Error()}
		}
		info.Variables = append(info.Variables, *v)
	}
	th.BreakpointInfo = info
}

// Registers returns the registers of thread tid (0: the selected thread).
func (d *Debugger) Registers(tid int) (api.Registers, error) {
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if tid == 0 {
		tid = t.SelectedThread()
	}
	ths, err := t.Threads()
	if err != nil {
		return nil, err
	}
	for _, th := range ths {
		if th.ID == tid {
			return threadRegisters(&th.Regs), nil
		}
	}
	return nil, fmt.Errorf("no thread %d", tid)
}

// FormatRegisters renders registers one per line, names right-aligned.
func FormatRegisters(regs api.Registers) string {
	w := 0
	for _, r := range regs {
		w = max(w, len(r.Name))
	}
	var s []byte
	for _, r := range regs {
		s = fmt.Appendf(s, "%*s = %s\n", w, r.Name, r.Value)
	}
	return string(s)
}

// ExamineMemory reads length bytes at addr as the program sees them: where
// the debugger has written a breakpoint instruction, the original byte of
// the executable is shown instead.
func (d *Debugger) ExamineMemory(addr uint64, length int) ([]byte, error) {
	if length < 0 || length > 1<<16 {
		return nil, fmt.Errorf("len must be between 0 and %d", 1<<16)
	}
	t, unlock, err := d.lockAlive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	buf := make([]byte, length)
	n, err := t.Process().ReadMemory(buf, addr)
	if err != nil {
		return nil, fmt.Errorf("reading %d bytes at %#x: %w", length, addr, err)
	}
	buf = buf[:n]
	d.restoreCode(addr, buf)
	return buf, nil
}

// restoreCode replaces, in buf read from addr, every int3 inside the
// executable's code by the byte the file has there. Go programs never
// write to their text, so an int3 that is not in the file is ours (a user
// or stepping breakpoint); an int3 the file has (runtime.Breakpoint) stays.
func (d *Debugger) restoreCode(addr uint64, buf []byte) {
	for i := 0; i < len(buf); i++ {
		if buf[i] != arch.BreakpointInstr[0] {
			continue
		}
		if orig, err := d.readCode(addr+uint64(i), 1); err == nil {
			buf[i] = orig[0]
		}
	}
}

// filterNames returns the names matching the regular expression filter.
func filterNames(names []string, filter string) ([]string, error) {
	if filter == "" {
		return names, nil
	}
	re, err := regexp.Compile(filter)
	if err != nil {
		return nil, fmt.Errorf("invalid filter %q: %w", filter, err)
	}
	var out []string
	for _, n := range names {
		if re.MatchString(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Sources lists the source files matching filter (a regexp).
func (d *Debugger) Sources(filter string) ([]string, error) {
	all, err := d.bi.Sources()
	if err != nil {
		return nil, err
	}
	return filterNames(all, filter)
}

// Functions lists the functions matching filter (a regexp).
func (d *Debugger) Functions(filter string) ([]string, error) {
	return filterNames(d.bi.Functions(), filter)
}

// Types lists the named types of the binary matching filter (a regexp).
func (d *Debugger) Types(filter string) ([]string, error) {
	data, err := d.bi.DWARF()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	r := data.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading DWARF types: %w", err)
		}
		if e == nil {
			break
		}
		if isTypeTag(e.Tag) {
			if name, ok := e.Val(dwarfAttrName).(string); ok && name != "" {
				seen[name] = true
			}
		}
		if e.Tag != dwarfTagCompileUnit {
			r.SkipChildren()
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return filterNames(names, filter)
}
