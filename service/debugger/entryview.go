package debugger

import (
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/service/api"
)

// entryView is where a function breakpoint is shown when its address lies
// inside a call the compiler inlined at the very start of the function. A
// breakpoint at prologue_end (the frame setup, before any inlined body, as
// in cmd/go's main.main) never does; this covers functions whose
// breakpoint comes from the fallback rule and lands in inlined code. A user
// who typed `break main.main` asked for main.main; the breakpoint and the
// stop on it are reported at the outermost function's own line for that
// address, the line of the inlined call, as Delve reports a main.go line.
type entryView struct {
	file string
	line int
}

// funcEntryView returns the view of a breakpoint at pc, set on function
// name fn ("" when the breakpoint was set by address): nil unless pc is
// the breakpoint address of the out-of-line function containing it, that
// function is fn (a breakpoint on an inlined function itself keeps the
// inlined body's line), and pc is inside inlined code.
func (d *Debugger) funcEntryView(pc uint64, fn string) *entryView {
	f := d.bi.PCToFunc(pc)
	if f == nil || (fn != "" && fn != f.Name) {
		return nil
	}
	inl := d.bi.InlinedCallsAt(pc)
	if len(inl) == 0 || d.bi.FirstPCAfterPrologue(f) != pc {
		return nil
	}
	outer := inl[len(inl)-1]
	return &entryView{file: outer.CallFile, line: outer.CallLine}
}

// breakpointView computes the view of ub's current proc breakpoint.
func (d *Debugger) breakpointView(ub *userBreakpoint) *entryView {
	if ub.pbp == nil || len(ub.pbp.Addrs) == 0 {
		return nil
	}
	switch ub.loc.kind {
	case locFunc:
		return d.funcEntryView(ub.pbp.Addrs[0], ub.loc.fn)
	case locAddr:
		// Clients (our REPL, Delve's) resolve `break fn` with
		// FindLocation and set the breakpoint by address.
		return d.funcEntryView(ub.pbp.Addrs[0], "")
	}
	return nil
}

// threadView returns where a thread stopped on a function breakpoint is
// shown, when its breakpoint has an entry view.
func (d *Debugger) threadView(th *proc.ThreadInfo) *entryView {
	ub := d.bpOf(th.Breakpoint)
	if ub == nil || ub.view == nil || len(ub.pbp.Addrs) == 0 || th.Regs.PC() != ub.pbp.Addrs[0] {
		return nil
	}
	return ub.view
}

// apply overrides the file and line of a location with the view.
func (v *entryView) apply(loc *api.Location) {
	if v != nil {
		loc.File, loc.Line = v.file, v.line
	}
}
