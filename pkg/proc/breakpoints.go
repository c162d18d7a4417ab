package proc

import (
	"errors"
	"fmt"
	"sort"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// Breakpoint is a user breakpoint: one logical stop point that may cover
// several addresses (inlined copies of a line or function).
type Breakpoint struct {
	ID       int      // user breakpoints count from 1
	Addrs    []uint64 // run-time addresses, ascending
	FuncName string   // function at the first address
	File     string
	Line     int

	// Cond, when set, decides per hit whether to stop; goid is the goroutine
	// that hit. A false result makes Continue step over the breakpoint.
	Cond func(goid int64) (bool, error)
	// CondExpr is an expression evaluated by the Target's Evaluator; used
	// when Cond is nil.
	CondExpr string
	// HitCond, when set, stops only when the hit count satisfies it.
	HitCond *HitCondition
	// HitCondPerG applies HitCond to the goroutine's own count.
	HitCondPerG bool

	// TotalHitCount counts hits whose Cond was true.
	TotalHitCount uint64
	// HitCount counts those hits per goroutine id.
	HitCount map[int64]uint64

	// Watch is set for a watchpoint, whose single address is in Addrs.
	Watch *Watch

	// CondMode says whether the kernel evaluates the condition
	// (SetKernelCond); CondFallback is why it does not, when it was asked.
	CondMode     CondMode
	CondFallback string
	// CondFaults counts kernel evaluations that read an invalid pointer:
	// false, and never a stop.
	CondFaults uint64
	kernel     KernelBP    // the kernel's probes, when CondMode is CondKernel
	kc         *KernelCond // what they were made from, for Restart

	spec bpSpec // what the breakpoint was set on, for Restart
}

// bpSpec is what a user breakpoint was set on. Restart resolves it again in
// the new process, whose load bias (and binary) may differ.
type bpSpec struct {
	fn       string // SetBreakpointFunc
	file     string // SetBreakpointLine
	line     int
	linkAddr uint64 // SetBreakpointAddr: run-time address minus the load bias
	// linkAddrs is SetBreakpointAddrs' addresses minus the load bias.
	linkAddrs []uint64
}

// HitCondition is a comparison on a hit count, like Delve's `cond -hitcount`.
type HitCondition struct {
	Op string // one of == != < <= > >= %
	N  uint64
}

// Satisfied reports whether count passes the condition.
func (h HitCondition) Satisfied(count uint64) (bool, error) {
	switch h.Op {
	case "==":
		return count == h.N, nil
	case "!=":
		return count != h.N, nil
	case "<":
		return count < h.N, nil
	case "<=":
		return count <= h.N, nil
	case ">":
		return count > h.N, nil
	case ">=":
		return count >= h.N, nil
	case "%":
		if h.N == 0 {
			return false, errors.New("hit condition: modulo by zero")
		}
		return count%h.N == 0, nil
	}
	return false, fmt.Errorf("hit condition: unknown operator %q", h.Op)
}

// Evaluator evaluates a breakpoint condition expression in the context of
// the goroutine that hit it; it is injected once the expression evaluator exists.
type Evaluator func(t *Target, goid int64, expr string) (bool, error)

// physBreakpoint is one int3 written into the text, shared by every logical
// user breakpoint and internal stepping breakpoint at that address.
type physBreakpoint struct {
	addr uint64
	orig byte
	refs int // 0 once unowned but not yet restored
}

// breakpointTable owns the physical breakpoints of a process.
type breakpointTable struct {
	phys map[uint64]*physBreakpoint
	kern map[uint64]*kernelAddr // addresses whose condition the kernel evaluates
}

func (bt *breakpointTable) acquire(mem Process, addr uint64) error {
	if bp := bt.phys[addr]; bp != nil {
		bp.refs++
		return nil
	}
	extra, err := bt.suspendKernel(addr)
	if err != nil {
		return err
	}
	var orig [1]byte
	if _, err := mem.ReadMemory(orig[:], addr); err != nil {
		return fmt.Errorf("breakpoint at %#x: reading original byte: %w", addr, err)
	}
	if _, err := mem.WriteMemory(addr, arch.BreakpointInstr); err != nil {
		return fmt.Errorf("breakpoint at %#x: writing int3: %w", addr, err)
	}
	bp := &physBreakpoint{addr: addr, orig: orig[0], refs: 1}
	if extra {
		bp.refs++
	}
	bt.phys[addr] = bp
	return nil
}

func (bt *breakpointTable) release(mem Process, addr uint64) error {
	bp := bt.phys[addr]
	if bp == nil {
		return nil
	}
	bp.refs--
	if done, err := bt.resumeKernel(mem, bp); done {
		return err
	}
	if bp.refs > 0 {
		return nil
	}
	// An unrestored int3 stays in the table, unowned, so that its traps
	// are still stepped over and removeAll retries it before detaching.
	if _, err := mem.WriteMemory(addr, []byte{bp.orig}); err != nil {
		bp.refs = 0
		return fmt.Errorf("restoring byte at %#x: %w", addr, err)
	}
	delete(bt.phys, addr)
	return nil
}

// removeAll restores every original byte, as needed before detaching.
func (bt *breakpointTable) removeAll(mem Process) error {
	var errs []error
	for addr, bp := range bt.phys {
		if _, err := mem.WriteMemory(addr, []byte{bp.orig}); err != nil {
			errs = append(errs, fmt.Errorf("restoring byte at %#x: %w", addr, err))
			continue
		}
		delete(bt.phys, addr)
	}
	return errors.Join(errs...)
}

// SetBreakpointFunc sets one logical user breakpoint on the named
// function: on the first statement after the prologue of its out-of-line
// copy and on the first statement of each of its inlined copies.
func (t *Target) SetBreakpointFunc(name string) (*Breakpoint, error) {
	if err := t.checkAlive(); err != nil {
		return nil, err
	}
	pcs, err := t.sym.FuncEntryStmts(name)
	if err != nil {
		return nil, err
	}
	if len(pcs) == 0 {
		return nil, fmt.Errorf("breakpoint on %s: the function has no code", name)
	}
	bp, err := t.addUserBreakpoint(pcs)
	if err != nil {
		return nil, err
	}
	bp.spec = bpSpec{fn: name}
	return bp, nil
}

// SetBreakpointLine sets one logical user breakpoint on every address of
// file:line; file may be a path suffix like "basic/main.go".
func (t *Target) SetBreakpointLine(file string, line int) (*Breakpoint, error) {
	if err := t.checkAlive(); err != nil {
		return nil, err
	}
	pcs, err := t.sym.LineToPCs(file, line)
	if err != nil {
		return nil, err
	}
	if len(pcs) == 0 {
		return nil, fmt.Errorf("no code at %s:%d", file, line)
	}
	bp, err := t.addUserBreakpoint(pcs)
	if err != nil {
		return nil, err
	}
	bp.spec = bpSpec{file: file, line: line}
	return bp, nil
}

// SetBreakpointAddr sets a user breakpoint at a run-time address.
func (t *Target) SetBreakpointAddr(addr uint64) (*Breakpoint, error) {
	if err := t.checkAlive(); err != nil {
		return nil, err
	}
	if _, ok := t.sym.PCToFunc(addr); !ok {
		return nil, fmt.Errorf("address %#x is not inside any function", addr)
	}
	bp, err := t.addUserBreakpoint([]uint64{addr})
	if err != nil {
		return nil, err
	}
	bp.spec = bpSpec{linkAddr: addr - t.bias}
	return bp, nil
}

// SetBreakpointAddrs sets one logical user breakpoint covering every
// run-time address in addrs: what a client asks for with the addresses
// FindLocation gave for a function or line that has several copies.
func (t *Target) SetBreakpointAddrs(addrs []uint64) (*Breakpoint, error) {
	if err := t.checkAlive(); err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errors.New("no address for the breakpoint")
	}
	var pcs []uint64
	seen := map[uint64]bool{}
	for _, addr := range addrs {
		if seen[addr] {
			continue
		}
		seen[addr] = true
		if _, ok := t.sym.PCToFunc(addr); !ok {
			return nil, fmt.Errorf("address %#x is not inside any function", addr)
		}
		pcs = append(pcs, addr)
	}
	bp, err := t.addUserBreakpoint(pcs)
	if err != nil {
		return nil, err
	}
	for _, pc := range bp.Addrs { // ascending, as place wants them again
		bp.spec.linkAddrs = append(bp.spec.linkAddrs, pc-t.bias)
	}
	return bp, nil
}

// BreakpointExistsError is returned when a user breakpoint is set where
// one already is. Its text is Delve's; it names the place, not an id,
// since a client's ids need not be proc's.
type BreakpointExistsError struct {
	File string
	Line int
	Addr uint64
}

func (e *BreakpointExistsError) Error() string {
	return fmt.Sprintf("Breakpoint exists at %s:%d at %x", e.File, e.Line, e.Addr)
}

func (t *Target) addUserBreakpoint(pcs []uint64) (*Breakpoint, error) {
	pcs = append([]uint64(nil), pcs...)
	sort.Slice(pcs, func(i, j int) bool { return pcs[i] < pcs[j] })
	for _, pc := range pcs {
		if other := t.userAt[pc]; other != nil {
			return nil, &BreakpointExistsError{File: other.File, Line: other.Line, Addr: pc}
		}
	}
	bp := &Breakpoint{ID: t.nextBPID, HitCount: map[int64]uint64{}}
	if err := t.place(bp, pcs); err != nil {
		return nil, err
	}
	t.nextBPID++
	t.user[bp.ID] = bp
	return bp, nil
}

// place writes the int3s of bp at the ascending pcs and records where it
// is; on failure nothing stays written.
func (t *Target) place(bp *Breakpoint, pcs []uint64) error {
	if len(pcs) == 0 {
		return errors.New("no code at the breakpoint's location")
	}
	for i, pc := range pcs {
		if err := t.bps.acquire(t.proc, pc); err != nil {
			errs := []error{err}
			for _, done := range pcs[:i] {
				errs = append(errs, t.bps.release(t.proc, done))
				delete(t.userAt, done)
			}
			return errors.Join(errs...)
		}
		t.userAt[pc] = bp
	}
	bp.Addrs = pcs
	if file, line, fn, ok := t.sym.PCToLine(pcs[0]); ok {
		bp.File, bp.Line, bp.FuncName = file, line, fn
	}
	return nil
}

// ClearBreakpoint removes the user breakpoint with the given id.
func (t *Target) ClearBreakpoint(id int) error {
	bp := t.user[id]
	if bp == nil {
		return fmt.Errorf("no breakpoint with id %d", id)
	}
	if bp.Watch != nil {
		return t.clearWatch(bp)
	}
	var errs []error
	if bp.kernel != nil {
		// Back to our int3s first, so that one release below removes all.
		errs = append(errs, t.dropKernelCond(bp))
	}
	for _, pc := range bp.Addrs {
		delete(t.userAt, pc)
		if !t.exited {
			errs = append(errs, t.bps.release(t.proc, pc))
		}
	}
	delete(t.user, id)
	return errors.Join(errs...)
}

// Breakpoints returns the user breakpoints ordered by id.
func (t *Target) Breakpoints() []*Breakpoint {
	out := make([]*Breakpoint, 0, len(t.user))
	for _, bp := range t.user {
		out = append(out, bp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Breakpoint returns the user breakpoint with the given id.
func (t *Target) Breakpoint(id int) (*Breakpoint, bool) {
	bp, ok := t.user[id]
	return bp, ok
}

// userHit decides whether a hit of bp by goroutine goid at pc stops the
// program, counting it first. Hits whose condition is false are not
// counted, as in Delve.
func (t *Target) userHit(bp *Breakpoint, pc uint64, goid int64) (bool, error) {
	if bp.kernel != nil {
		return t.kernelHit(bp, pc, goid)
	}
	ok, err := t.evalCond(bp, goid)
	if err == nil && !ok {
		return false, nil
	}
	bp.TotalHitCount++
	bp.HitCount[goid]++
	return bp.hitAfterCond(goid, err)
}

// hitAfterCond applies the hit condition to a hit just counted whose
// condition held or failed to evaluate (condErr). As in Delve, a condition
// that cannot be evaluated makes the hit count and stop with its error,
// unless the hit condition then says not to stop, which drops the error.
func (bp *Breakpoint) hitAfterCond(goid int64, condErr error) (bool, error) {
	stop, err := bp.hitCondHolds(goid)
	if !stop {
		return false, err
	}
	return true, errors.Join(condErr, err)
}

// evalCond evaluates bp's condition for goroutine goid; with an error
// the hit counts as one whose condition held (see hitAfterCond).
func (t *Target) evalCond(bp *Breakpoint, goid int64) (bool, error) {
	ok := true
	var err error
	switch {
	case bp.Cond != nil:
		ok, err = bp.Cond(goid)
	case bp.CondExpr != "":
		if t.Eval == nil {
			return true, fmt.Errorf("condition %q: no expression evaluator", bp.CondExpr)
		}
		ok, err = t.Eval(t, goid, bp.CondExpr)
	}
	if err != nil {
		// Delve's wording; no id, since proc's ids are not the client's.
		return true, fmt.Errorf("error evaluating expression: %w", err)
	}
	return ok, nil
}

// hitCondHolds applies bp's hit condition to the counts just updated.
func (bp *Breakpoint) hitCondHolds(goid int64) (bool, error) {
	if bp.HitCond == nil {
		return true, nil
	}
	count := bp.TotalHitCount
	if bp.HitCondPerG {
		count = bp.HitCount[goid]
	}
	return bp.HitCond.Satisfied(count)
}
