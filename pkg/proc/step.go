package proc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// stepBreakpoint is an internal breakpoint of a next/step/stepout in
// progress. It only fires for the goroutine the operation is bound to.
type stepBreakpoint struct {
	addr   uint64
	origin *stepOrigin
	// cond further restricts the hit (same frame, deeper frame...); nil: none.
	cond func(t *Target, h *trapHit) (bool, error)
	// onHit replaces "stop here": it may move the thread and arm more
	// breakpoints, and says whether the operation ends at the new position.
	onHit func(t *Target, h *trapHit) (bool, error)
	// mark, when set, only records the hit (the thread does not move) and
	// the other breakpoints at the address are still evaluated.
	mark func()
}

// stepOrigin is where a stepping operation started.
type stepOrigin struct {
	th     Thread // nil when the goroutine is parked
	regs   arch.Registers
	g      Goroutine
	frames []Frame
	fn     Func   // physical function of the top frame
	file   string // position of the top frame
	line   int
	// pc is the address the position was looked up at: the thread's PC, or
	// for a parked goroutine the return address into its user frame minus one.
	pc uint64
	// inl are the inlined calls active at pc, innermost first.
	inl []InlinedCall
	// parked is set when the goroutine runs on no thread: the operation
	// waits for it to be scheduled again and reach the next line.
	parked bool
	// returned is set once the top frame has returned: a later call of the
	// same function at the same depth (a loop, the next deferred call) is
	// another frame that merely reuses the stack slot.
	returned bool
	// ret is set by the return breakpoint that ended the operation.
	ret *Return
}

// inlineID returns the inlined call the origin's logical frame is in, 0
// for the physical function.
func (o *stepOrigin) inlineID() uint64 {
	if len(o.inl) == 0 {
		return 0
	}
	return o.inl[0].ID
}

// enclosing reports whether id is the origin's logical frame or one of the
// frames it is inlined into (0: the physical function).
func (o *stepOrigin) enclosing(id uint64) bool {
	if id == 0 {
		return true
	}
	for _, c := range o.inl {
		if c.ID == id {
			return true
		}
	}
	return false
}

// owns reports whether a hit belongs to the goroutine (or, without one,
// the thread) that started the operation.
func (o *stepOrigin) owns(h *trapHit) bool {
	if o.g.ID != 0 {
		return h.g.ID == o.g.ID
	}
	return h.th.ID() == o.th.ID()
}

// frameDepth turns a CFA into a distance from the stack top that survives
// the runtime moving the stack; bigger is deeper.
func frameDepth(g Goroutine, cfa uint64) uint64 {
	if g.StackHi != 0 {
		return g.StackHi - cfa
	}
	return ^cfa
}

// atDepth is a condition: the hit's top frame is the frame at cfa of origin.
func atDepth(o *stepOrigin, cfa uint64) func(*Target, *trapHit) (bool, error) {
	want := frameDepth(o.g, cfa)
	return func(t *Target, h *trapHit) (bool, error) {
		fr, err := h.unwind(t, 1)
		if err != nil {
			return false, err
		}
		return frameDepth(h.g, fr[0].CFA) == want, nil
	}
}

// evalSteps reports whether hit h ends the stepping operation in progress.
func (t *Target) evalSteps(h *trapHit) (bool, error) {
	for _, sb := range append([]*stepBreakpoint(nil), t.steps...) {
		if sb.addr != h.pc || !sb.origin.owns(h) {
			continue
		}
		if sb.cond != nil {
			ok, err := sb.cond(t, h)
			if err != nil {
				return false, err
			}
			if !ok {
				continue
			}
		}
		if sb.mark != nil {
			sb.mark()
			continue
		}
		if sb.onHit != nil {
			return sb.onHit(t, h)
		}
		return true, nil
	}
	return false, nil
}

func (t *Target) addStep(sb *stepBreakpoint) error {
	if err := t.bps.acquire(t.proc, sb.addr); err != nil {
		return err
	}
	t.steps = append(t.steps, sb)
	return nil
}

// NextInProgress reports whether a next, step or stepout was interrupted by
// another goroutine's breakpoint and is still pending.
func (t *Target) NextInProgress() bool { return len(t.steps) > 0 }

// CancelNext abandons a pending next, step or stepout.
func (t *Target) CancelNext() error { return t.clearSteps() }

// clearSteps removes every internal stepping breakpoint; one whose byte
// cannot be restored stays in the breakpoint table, and is reported.
func (t *Target) clearSteps() error {
	var errs []error
	for _, sb := range t.steps {
		if !t.exited {
			errs = append(errs, t.bps.release(t.proc, sb.addr))
		}
	}
	t.steps = nil
	return errors.Join(errs...)
}

// origin captures the selected goroutine's position for a stepping operation.
func (t *Target) origin() (*stepOrigin, error) {
	if err := t.checkAlive(); err != nil {
		return nil, err
	}
	th, err := t.stepThread()
	if err != nil {
		if t.selG == 0 {
			return nil, err
		}
		return t.parkedOrigin(t.selG)
	}
	regs, err := th.Registers()
	if err != nil {
		return nil, fmt.Errorf("thread %d: %w", th.ID(), err)
	}
	o := &stepOrigin{th: th, regs: regs, pc: regs.PC()}
	if g, err := t.rt.CurrentGoroutine(th); err == nil {
		o.g = g
	}
	o.frames, err = t.rt.Unwind(th, regs, 16)
	if err != nil || len(o.frames) == 0 {
		return nil, fmt.Errorf("unwinding thread %d: %w", th.ID(), errors.Join(err, errors.New("no frames")))
	}
	if err := t.locateOrigin(o); err != nil {
		return nil, err
	}
	if err := t.clearSteps(); err != nil {
		return nil, err
	}
	return o, nil
}

// parkedOrigin starts a stepping operation on a goroutine that runs on no
// thread. Its innermost frames are the runtime's (gopark...); the frame to
// step is the first user frame, which resumes at its return address when
// the goroutine is scheduled again, mid-way through its current line.
func (t *Target) parkedOrigin(goid int64) (*stepOrigin, error) {
	g, frames, err := t.rt.ParkedFrames(goid, 32)
	if err != nil {
		return nil, err
	}
	k := 0
	for k < len(frames) && (frames[k].Fn == "" || isRuntime(frames[k].Fn) || t.passThrough(frames[k])) {
		k++
	}
	if k == len(frames) {
		return nil, fmt.Errorf("goroutine %d is parked in the runtime with no user frame to step in", goid)
	}
	o := &stepOrigin{g: g, frames: frames[k:], parked: true, pc: frames[k].PC - 1}
	o.regs.Rip = frames[k].PC
	if err := t.locateOrigin(o); err != nil {
		return nil, err
	}
	if err := t.clearSteps(); err != nil {
		return nil, err
	}
	return o, nil
}

// locateOrigin fills the function, line and inlining of o.pc.
func (t *Target) locateOrigin(o *stepOrigin) error {
	fn, ok := t.sym.PCToFunc(o.pc)
	if !ok {
		return fmt.Errorf("no function at PC %#x", o.pc)
	}
	o.fn = fn
	var okLine bool
	o.file, o.line, _, okLine = t.sym.PCToLine(o.pc)
	if !okLine {
		return fmt.Errorf("no line information for PC %#x in %s", o.pc, fn.Name)
	}
	o.inl = t.sym.InlinedCallsAt(o.pc)
	return nil
}

// Next runs the selected goroutine to the next source line of the current
// function, stepping over calls; it also stops when the function returns
// or when a panic runs one of the function's deferred closures.
func (t *Target) Next() (Stop, error) {
	return t.exclusive(func() (Stop, error) { return t.lineStep(false) })
}

// Step is Next that also enters calls made on the current line to
// functions with debug info (stopping after their prologue) and deferred
// calls run on return. Calls into the runtime are stepped over.
func (t *Target) Step() (Stop, error) {
	return t.exclusive(func() (Stop, error) { return t.lineStep(true) })
}

func (t *Target) lineStep(into bool) (Stop, error) {
	o, err := t.origin()
	if err != nil {
		return Stop{}, err
	}
	if err := t.armLines(o, into); err != nil {
		return t.abortStep(err)
	}
	if _, err := t.armReturn(o, into); err != nil {
		return t.abortStep(err)
	}
	if _, err := t.armDefers(o, o.fn.Name, o.frames[0].CFA, into); err != nil {
		return t.abortStep(err)
	}
	if into && !o.parked {
		here, err := t.armCalls(o, o.fn, o.regs.PC())
		if err != nil {
			return t.abortStep(err)
		}
		if here {
			// The thread sits on a call of the line: enter it now, since
			// resuming would step over that instruction's breakpoint.
			h := &trapHit{th: o.th, regs: o.regs, pc: o.regs.PC(), g: o.g}
			stop, err := t.stepIntoCall(o, h)
			if err != nil {
				return t.abortStep(err)
			}
			if stop {
				cerr := t.clearSteps()
				st, err := t.stopOn(o.th, StopStepDone)
				return st, errors.Join(err, cerr)
			}
		}
	}
	return t.runStep()
}

// StepOut runs the selected goroutine until the current function returns
// to its caller (skipping runtime and wrapper frames), or until a deferred
// call of the function runs because of a panic.
func (t *Target) StepOut() (Stop, error) { return t.exclusive(t.stepOut) }

func (t *Target) stepOut() (Stop, error) {
	o, err := t.origin()
	if err != nil {
		return Stop{}, err
	}
	ninl := 0
	if len(o.inl) > 0 {
		// An inlined frame has no return address: its caller resumes at
		// the caller's next statement outside the inlined body.
		if ninl, err = t.armInlinedReturn(o); err != nil {
			return t.abortStep(err)
		}
	}
	nret, err := t.armReturn(o, false)
	if err != nil {
		return t.abortStep(err)
	}
	nret += ninl
	ndef, err := t.armDefers(o, o.fn.Name, o.frames[0].CFA, false)
	if err != nil {
		return t.abortStep(err)
	}
	if nret+ndef == 0 {
		// Drop the sentinel too, so that no next is left in progress.
		return Stop{}, errors.Join(fmt.Errorf("stepout: %s has no caller to return to", o.fn.Name), t.clearSteps())
	}
	return t.runStep()
}

// StepInstruction executes one instruction of the selected thread; the
// other threads stay stopped.
func (t *Target) StepInstruction() (Stop, error) { return t.exclusive(t.stepInstruction) }

func (t *Target) stepInstruction() (Stop, error) {
	if err := t.checkAlive(); err != nil {
		return Stop{}, err
	}
	th, err := t.stepThread()
	if err != nil {
		return Stop{}, err
	}
	regs, err := th.Registers()
	if err != nil {
		return Stop{}, fmt.Errorf("thread %d: %w", th.ID(), err)
	}
	if err := t.clearSteps(); err != nil {
		return Stop{}, err
	}
	if err := t.stepOverAt(th, regs.PC()); err != nil {
		return t.exitedBy(err)
	}
	t.absorbWatchHits(th)
	delete(t.threadBP, th.ID())
	return t.stopOn(th, StopStepDone)
}

// abortStep cancels the stepping operation being set up, unless err says
// the process ended, which is reported as an exit stop.
func (t *Target) abortStep(err error) (Stop, error) {
	return t.exitedBy(err)
}

func (t *Target) runStep() (Stop, error) {
	st, err := t.Continue()
	if err != nil {
		err = errors.Join(err, t.clearSteps())
	}
	return st, err
}

// armLines puts a breakpoint on every statement of the current function
// that starts another line, for the current frame only (so recursion and
// other goroutines are ignored). For next, statements of inlined calls
// count when they are the current logical frame or one it is inlined
// into; step takes them all.
func (t *Target) armLines(o *stepOrigin, into bool) error {
	stmts, err := t.sym.StmtPCs(o.fn)
	if err != nil {
		return fmt.Errorf("lines of %s: %w", o.fn.Name, err)
	}
	cond := sameFrameLine(o)
	seen := map[uint64]bool{}
	if !o.parked {
		// The thread stands there; a parked goroutine's return address may
		// well be the next line's first statement.
		seen[o.pc] = true
	}
	// The rows after a deferreturn call only load the results on the way
	// out; the user is leaving the function, not starting a line.
	calls, err := t.calls(o.fn)
	if err != nil {
		return err
	}
	for _, c := range calls {
		if f, ok := t.sym.PCToFunc(c.target); ok && f.Name == "runtime.deferreturn" {
			seen[c.next] = true
		}
	}
	for _, s := range stmts {
		if seen[s.PC] || (s.File == o.file && s.Line == o.line) {
			continue
		}
		if s.File == autogeneratedFile && o.file != autogeneratedFile {
			// A wrapper's own rows around a body inlined into it: next
			// goes on to where the wrapper returns, as in Delve.
			continue
		}
		seen[s.PC] = true
		if !t.stopsIn(o, s.PC, into) {
			continue
		}
		if err := t.addStep(&stepBreakpoint{addr: s.PC, origin: o, cond: cond}); err != nil {
			return err
		}
	}
	return nil
}

// sameFrameLine is the condition of line breakpoints: the origin's frame,
// before it returned.
func sameFrameLine(o *stepOrigin) func(*Target, *trapHit) (bool, error) {
	same := atDepth(o, o.frames[0].CFA)
	return func(t *Target, h *trapHit) (bool, error) {
		if o.returned {
			return false, nil
		}
		return same(t, h)
	}
}

// stopsIn reports whether a statement at pc may end a next (into=false)
// or step from o: for next, its innermost logical frame is o's or one o
// is inlined into; for step, any statement.
func (t *Target) stopsIn(o *stepOrigin, pc uint64, into bool) bool {
	chain := t.sym.InlinedCallsAt(pc)
	inner := uint64(0)
	if len(chain) > 0 {
		inner = chain[0].ID
	}
	// Step, as Delve's, stops on any statement of the physical function:
	// code inlined on a later line is a call the user steps into, wherever
	// the optimizer placed it.
	return into || o.enclosing(inner)
}

// armInlinedReturn puts a breakpoint on every statement of the frames o's
// inlined call is inlined into, outside that call's body: where the caller
// goes on once the inlined body is done.
func (t *Target) armInlinedReturn(o *stepOrigin) (int, error) {
	stmts, err := t.sym.StmtPCs(o.fn)
	if err != nil {
		return 0, fmt.Errorf("lines of %s: %w", o.fn.Name, err)
	}
	self := o.inlineID()
	cond := sameFrameLine(o)
	n := 0
	for _, s := range stmts {
		chain := t.sym.InlinedCallsAt(s.PC)
		inner := uint64(0)
		if len(chain) > 0 {
			inner = chain[0].ID
		}
		if inner == self || !o.enclosing(inner) || s.File == autogeneratedFile {
			continue
		}
		if err := t.addStep(&stepBreakpoint{addr: s.PC, origin: o, cond: cond}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// armDefers puts breakpoints after the prologue of the functions fnName
// (whose frame is at cfa) may defer: its own closures, what its defer
// wrappers call, and the functions it defers without arguments. They fire only below the current frame and, as in Delve,
// for next/stepout only when a panic runs them; for step also when the
// function's return runs them.
func (t *Target) armDefers(o *stepOrigin, fnName string, cfa uint64, into bool) (int, error) {
	var cands []Func
	prefix := fnName + ".func"
	for _, f := range t.sym.Funcs(prefix) {
		if isDigits(strings.TrimPrefix(f.Name, prefix)) {
			cands = append(cands, f)
		}
	}
	if fn, err := t.sym.LookupFunc(fnName); err == nil {
		direct, err := t.deferredDirect(fn)
		if err != nil {
			return 0, err
		}
		cands = append(cands, direct...)
	}
	for _, w := range t.sym.Funcs(fnName + ".deferwrap") {
		targets, err := t.callTargets(w)
		if err != nil {
			return 0, err
		}
		if len(targets) == 0 {
			cands = append(cands, w) // the deferred call was inlined into the wrapper
		}
		cands = append(cands, targets...)
	}
	top := frameDepth(o.g, cfa)
	cond := func(t *Target, h *trapHit) (bool, error) {
		fr, err := h.unwind(t, 12)
		if err != nil {
			return false, err
		}
		if frameDepth(h.g, fr[0].CFA) <= top {
			return false, nil
		}
		for _, f := range fr[1:] {
			if frameDepth(h.g, f.CFA) <= top {
				break
			}
			if f.Fn == "runtime.gopanic" {
				return true, nil
			}
			if into && (f.Fn == "runtime.deferreturn" || isWrapper(f.Fn)) {
				return true, nil
			}
		}
		return false, nil
	}
	n := 0
	seen := map[uint64]bool{}
	for _, f := range cands {
		pc, err := t.sym.FirstPCAfterPrologue(f)
		if err != nil || seen[pc] {
			continue
		}
		seen[pc] = true
		if err := t.addStep(&stepBreakpoint{addr: pc, origin: o, cond: cond}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// armCalls puts a step-into breakpoint on every call instruction of fn on
// the origin's line. It reports whether the instruction at pc is one.
func (t *Target) armCalls(o *stepOrigin, fn Func, pc uint64) (bool, error) {
	calls, err := t.calls(fn)
	if err != nil {
		return false, err
	}
	here := false
	cond := atDepth(o, o.frames[0].CFA)
	for _, c := range calls {
		file, line, _, _ := t.sym.PCToLine(c.pc)
		if file != o.file || line != o.line {
			continue
		}
		if c.pc == pc {
			here = true
			continue
		}
		err := t.addStep(&stepBreakpoint{addr: c.pc, origin: o, cond: cond,
			onHit: func(t *Target, h *trapHit) (bool, error) { return t.stepIntoCall(o, h) }})
		if err != nil {
			return here, err
		}
	}
	return here, nil
}

// stepIntoCall executes the call instruction h stands on. Entering a
// function with debug info arms a breakpoint after its prologue; a call
// into the runtime (or code without symbols) is never single-stepped but
// runs on to the next line.
func (t *Target) stepIntoCall(o *stepOrigin, h *trapHit) (bool, error) {
	if err := t.stepOverAt(h.th, h.pc); err != nil {
		return false, err
	}
	regs, err := h.th.Registers()
	if err != nil {
		return false, fmt.Errorf("thread %d: %w", h.th.ID(), err)
	}
	pc := regs.PC()
	callee, ok := t.sym.PCToFunc(pc)
	if ok && !isWrapper(callee.Name) && t.isAutogenerated(callee.Entry) {
		// Go through to the method the wrapper calls or jumps to.
		bodies, err := t.wrappedBodies(callee)
		if err != nil {
			return false, err
		}
		for _, body := range bodies {
			if err := t.addStep(&stepBreakpoint{addr: body, origin: o}); err != nil {
				return false, err
			}
		}
		if len(bodies) > 0 {
			return false, nil
		}
	}
	switch {
	case ok && isWrapper(callee.Name) && !t.deferWrapWithLine(callee):
		// Defer and method-value wrappers: go through them to what they call.
		calls, err := t.calls(callee)
		if err != nil {
			return false, err
		}
		for _, c := range calls {
			err := t.addStep(&stepBreakpoint{addr: c.pc, origin: o,
				onHit: func(t *Target, h *trapHit) (bool, error) { return t.stepIntoCall(o, h) }})
			if err != nil {
				return false, err
			}
		}
		return false, nil
	case ok && !isRuntime(callee.Name):
		body, err := t.sym.FirstPCAfterPrologue(callee)
		if err != nil {
			return false, fmt.Errorf("stepping into %s: %w", callee.Name, err)
		}
		if body == pc {
			return true, nil
		}
		return false, t.addStep(&stepBreakpoint{addr: body, origin: o})
	}
	// The runtime (or code without symbols) is stepped over: the line
	// breakpoints already armed stop at the next line. Its return address
	// is mid-way through the line the step started from, where Delve does
	// not stop either.
	return false, nil
}

// deferWrapWithLine reports whether fn is a defer wrapper whose entry is on
// its defer statement's line: called directly (an open-coded defer, in an
// optimized build), step stops in it there, as Delve does, since only an
// <autogenerated> entry marks a function to step through.
func (t *Target) deferWrapWithLine(fn Func) bool {
	return strings.Contains(fn.Name, ".deferwrap") && !t.isAutogenerated(fn.Entry)
}

// isRuntime reports whether name belongs to the Go runtime, which the
// debugger never steps through.
func isRuntime(name string) bool {
	return strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "internal/runtime/") ||
		strings.HasPrefix(name, "runtime/internal/")
}

// isWrapper reports whether name is a compiler-generated wrapper without
// user source of its own.
func isWrapper(name string) bool {
	return strings.Contains(name, ".deferwrap") || strings.HasSuffix(name, "-fm")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
