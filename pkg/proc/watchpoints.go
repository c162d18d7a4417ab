package proc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// WatchType is the kind of access a watchpoint stops on (Delve's bits).
type WatchType uint8

// Watchpoint access kinds.
const (
	WatchRead WatchType = 1 << iota
	WatchWrite
)

// Watcher is a Process whose backend has hardware data breakpoints: a
// few slots, each armed on every thread and on threads created later.
type Watcher interface {
	// SetWatchpoint arms slot to trap after an access to the size bytes
	// at addr: writes, or with rw reads and writes.
	SetWatchpoint(slot int, addr uint64, size int, rw bool) error
	// ClearWatchpoint disarms slot.
	ClearWatchpoint(slot int) error
}

// WatchThread is a Thread that can say which watchpoint slots trapped
// on it since it was last asked (bit i: slot i).
type WatchThread interface {
	Thread
	WatchHits() uint8
}

// numWatchSlots is what x86 has: DR0–DR3.
const numWatchSlots = 4

// ErrWatchSlotsExhausted is Delve's refusal of a fifth watchpoint.
var ErrWatchSlotsExhausted = errors.New("hardware breakpoints exhausted")

// Watch is what a watchpoint watches. A Breakpoint with Watch set is a
// watchpoint: its hits are counted and conditioned like a breakpoint's.
type Watch struct {
	Expr string
	Type WatchType
	Addr uint64 // moves with the goroutine's stack for a stack variable
	Size int

	slot  int
	last  []byte      // the value at the last stop, to report old and new
	stack *stackWatch // nil outside goroutine stacks
}

// WatchScope places a watched stack variable: the goroutine whose stack
// holds it and the frame that declares it, whose return ends the watch.
type WatchScope struct {
	Goroutine int64
	StackHi   uint64 // the goroutine's stack top when the watch is set
	// StackHiAddr is where the runtime keeps that top (&g.stack.hi), read
	// again whenever a stack may have moved.
	StackHiAddr uint64
	RetPC       uint64 // return address of the declaring frame
	CFA         uint64 // that frame's canonical frame address
}

// stackWatch keeps a stack watchpoint's position relative to the stack
// top, which the runtime moves when it copies the stack.
type stackWatch struct {
	goid   int64
	hiAddr uint64 // &g.stack.hi
	off    int64  // Addr - stack top
	cfaOff int64  // the declaring frame's CFA - stack top
	pcs    []uint64
}

// sentinel is an internal breakpoint serving a stack watchpoint: at the
// return of runtime.copystack (move the watch) or at the declaring
// frame's return address (the variable goes out of scope).
type sentinel struct {
	pc     uint64
	wp     *Breakpoint
	scopes bool // true: scope end; false: stack copy
}

// WatchChange is the watched value before and after the access that
// stopped the program.
type WatchChange struct {
	Old, New []byte
}

// SetWatchpoint sets a watchpoint on the size bytes at addr, which expr
// named; scope is nil unless they are on a goroutine stack.
func (t *Target) SetWatchpoint(expr string, typ WatchType, addr uint64, size int, scope *WatchScope) (*Breakpoint, error) {
	if err := t.checkAlive(); err != nil {
		return nil, err
	}
	if typ&(WatchRead|WatchWrite) == 0 {
		return nil, errors.New("at least one of read and write must be set for watchpoint")
	}
	if scope != nil && typ&WatchRead != 0 {
		// The runtime reads stacks whenever it scans or copies them.
		return nil, errors.New("can not watch stack allocated variable for reads")
	}
	w, ok := t.proc.(Watcher)
	if !ok {
		return nil, errors.New("hardware breakpoints not supported")
	}
	slot := -1
	for i, bp := range t.watchSlots {
		if bp == nil {
			slot = i
			break
		}
	}
	if slot < 0 {
		return nil, ErrWatchSlotsExhausted
	}
	cur := make([]byte, size)
	if _, err := t.proc.ReadMemory(cur, addr); err != nil {
		return nil, fmt.Errorf("can not watch %q: %w", expr, err)
	}
	if err := w.SetWatchpoint(slot, addr, size, typ&WatchRead != 0); err != nil {
		return nil, err
	}
	bp := &Breakpoint{ID: t.nextBPID, Addrs: []uint64{addr}, HitCount: map[int64]uint64{},
		Watch: &Watch{Expr: expr, Type: typ, Addr: addr, Size: size, slot: slot, last: cur}}
	if scope != nil {
		if err := t.setStackSentinels(bp, scope); err != nil {
			return nil, errors.Join(err, w.ClearWatchpoint(slot))
		}
	}
	t.watchSlots[slot] = bp
	t.nextBPID++
	t.user[bp.ID] = bp
	return bp, nil
}

// setStackSentinels plants the breakpoints that follow a stack watch:
// every return of runtime.copystack, and the return address of the frame.
func (t *Target) setStackSentinels(bp *Breakpoint, scope *WatchScope) error {
	fn, err := t.sym.LookupFunc("runtime.copystack")
	if err != nil {
		return fmt.Errorf("following the stack of goroutine %d: %w", scope.Goroutine, err)
	}
	rets, err := t.branches(fn, x86asm.RET)
	if err != nil {
		return err
	}
	if len(rets) == 0 {
		return errors.New("runtime.copystack has no return instruction")
	}
	sw := &stackWatch{goid: scope.Goroutine, hiAddr: scope.StackHiAddr,
		off:    int64(bp.Watch.Addr - scope.StackHi),
		cfaOff: int64(scope.CFA - scope.StackHi)}
	bp.Watch.stack = sw
	add := func(pc uint64, scopes bool) error {
		if err := t.bps.acquire(t.proc, pc); err != nil {
			return err
		}
		sw.pcs = append(sw.pcs, pc)
		t.sentinels = append(t.sentinels, sentinel{pc: pc, wp: bp, scopes: scopes})
		return nil
	}
	var errs []error
	for _, r := range rets {
		errs = append(errs, add(r.pc, false))
	}
	errs = append(errs, add(scope.RetPC, true))
	if err := errors.Join(errs...); err != nil {
		return errors.Join(err, t.dropSentinels(bp))
	}
	return nil
}

// dropSentinels removes the internal breakpoints of watchpoint bp.
func (t *Target) dropSentinels(bp *Breakpoint) error {
	var errs []error
	kept := t.sentinels[:0]
	for _, s := range t.sentinels {
		if s.wp != bp {
			kept = append(kept, s)
			continue
		}
		if !t.exited {
			errs = append(errs, t.bps.release(t.proc, s.pc))
		}
	}
	t.sentinels = kept
	return errors.Join(errs...)
}

// clearWatch disarms watchpoint bp and forgets it.
func (t *Target) clearWatch(bp *Breakpoint) error {
	var errs []error
	if w, ok := t.proc.(Watcher); ok && !t.exited {
		errs = append(errs, w.ClearWatchpoint(bp.Watch.slot))
	}
	errs = append(errs, t.dropSentinels(bp))
	t.watchSlots[bp.Watch.slot] = nil
	delete(t.user, bp.ID)
	return errors.Join(errs...)
}

// takeWatchHits collects, without resuming anything, the watchpoint
// traps that single steps (over a breakpoint, or of a next) left on the
// threads, so that they stop the program before it runs on.
func (t *Target) takeWatchHits() []Thread {
	if t.watchCount() == 0 {
		return nil
	}
	var out []Thread
	for _, th := range t.proc.Threads() {
		if wt, ok := th.(WatchThread); ok {
			if bits := wt.WatchHits(); bits != 0 {
				t.watchBits[th.ID()] |= bits
				out = append(out, th)
			}
		}
	}
	return out
}

func (t *Target) watchCount() int {
	n := 0
	for _, bp := range t.watchSlots {
		if bp != nil {
			n++
		}
	}
	return n
}

// watchTrap handles th's trap when a watchpoint caused it (ok); the hit
// is nil when the watchpoint does not stop the program: its condition is
// false, or a read-only watch saw the value change (a write: x86 traps
// reads only together with writes).
func (t *Target) watchTrap(th Thread) (hit *trapHit, ok bool, err error) {
	bits := t.watchBits[th.ID()]
	delete(t.watchBits, th.ID())
	if wt, isW := th.(WatchThread); isW {
		bits |= wt.WatchHits()
	}
	if bits == 0 {
		return nil, false, nil
	}
	regs, err := th.Registers()
	if err != nil {
		return nil, true, fmt.Errorf("thread %d: %w", th.ID(), err)
	}
	h := &trapHit{th: th, regs: regs, pc: regs.PC()}
	if g, err := t.rt.CurrentGoroutine(th); err == nil {
		h.g = g
	}
	var condErr error
	for slot, bp := range t.watchSlots {
		if bp == nil || bits&(1<<slot) == 0 {
			continue
		}
		w := bp.Watch
		cur := make([]byte, w.Size)
		if _, err := t.proc.ReadMemory(cur, w.Addr); err != nil {
			return nil, true, fmt.Errorf("reading watched %s: %w", w.Expr, err)
		}
		old := w.last
		w.last = cur
		if w.Type == WatchRead && !bytes.Equal(old, cur) {
			continue
		}
		active, err := t.userHit(bp, 0, h.g.ID)
		if err != nil && condErr == nil {
			condErr = err
		}
		if active && hit == nil {
			hit = h
			t.threadBP[th.ID()] = bp
			t.watchChange[th.ID()] = &WatchChange{Old: old, New: cur}
		}
	}
	return hit, true, condErr
}

// sentinelHit runs the stack-watch sentinels at h's address and returns
// the watchpoints whose variable just went out of scope, now cleared.
func (t *Target) sentinelHit(h *trapHit) ([]*Breakpoint, error) {
	var gone []*Breakpoint
	var errs []error
	for _, s := range append([]sentinel(nil), t.sentinels...) {
		sw := s.wp.Watch.stack
		if s.pc != h.pc || sw == nil {
			continue
		}
		if !s.scopes {
			errs = append(errs, t.followCopy(s.wp))
			continue
		}
		if h.g.ID != sw.goid {
			continue
		}
		hi, err := t.stackHi(sw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// A deeper call of the same function returns here too; only the
		// frame itself leaves the stack pointer at its CFA.
		if int64(h.regs.SP()-hi) != sw.cfaOff || t.user[s.wp.ID] == nil {
			continue
		}
		errs = append(errs, t.clearWatch(s.wp))
		gone = append(gone, s.wp)
	}
	return gone, errors.Join(errs...)
}

// followCopy moves a stack watchpoint after runtime.copystack returned,
// on behalf of any goroutine: its own growing stack, or the stack of a
// stopped one the garbage collector shrinks. Its g says where it is now.
func (t *Target) followCopy(bp *Breakpoint) error {
	hi, err := t.stackHi(bp.Watch.stack)
	if err != nil {
		return err
	}
	return t.moveWatch(bp, hi+uint64(bp.Watch.stack.off))
}

// stackHi reads the watched goroutine's g.stack.hi.
func (t *Target) stackHi(sw *stackWatch) (uint64, error) {
	var b [8]byte
	if _, err := t.proc.ReadMemory(b[:], sw.hiAddr); err != nil {
		return 0, fmt.Errorf("reading the stack of goroutine %d: %w", sw.goid, err)
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// moveWatch re-arms a stack watchpoint at the variable's new address
// after its goroutine's stack was copied.
func (t *Target) moveWatch(bp *Breakpoint, addr uint64) error {
	w := bp.Watch
	if addr == w.Addr {
		return nil
	}
	wr, ok := t.proc.(Watcher)
	if !ok {
		return nil
	}
	if err := wr.SetWatchpoint(w.slot, addr, w.Size, w.Type&WatchRead != 0); err != nil {
		return fmt.Errorf("moving watchpoint %s to %#x: %w", w.Expr, addr, err)
	}
	w.Addr = addr
	bp.Addrs = []uint64{addr}
	return nil
}

// absorbWatchHits drops the watchpoint traps of an instruction the user
// stepped on purpose, which already stopped there, keeping the values it
// wrote as the last seen; the next continue must not stop for it again.
func (t *Target) absorbWatchHits(th Thread) {
	bits := t.watchBits[th.ID()]
	delete(t.watchBits, th.ID())
	if wt, ok := th.(WatchThread); ok {
		bits |= wt.WatchHits()
	}
	for slot, bp := range t.watchSlots {
		if bp == nil || bits&(1<<slot) == 0 {
			continue
		}
		cur := make([]byte, bp.Watch.Size)
		if _, err := t.proc.ReadMemory(cur, bp.Watch.Addr); err == nil {
			bp.Watch.last = cur
		}
	}
}
