package native

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// debugRegOffset is offsetof(struct user, u_debugreg) on linux/amd64:
// 27 GPRs, u_fpvalid, the 512-byte i387 area, six longs, u_ar0,
// u_fpstate, magic and u_comm[32] come first.
const debugRegOffset = 848

// NumWatchSlots is how many data watchpoints x86 offers: DR0–DR3.
const NumWatchSlots = 4

// watchSlot is one debug address register as the debugger wants it on
// every thread.
type watchSlot struct {
	addr uint64
	size int  // 1, 2, 4 or 8
	rw   bool // trap on reads too; x86 has no read-only watch
	on   bool
}

// dr7 encodes the enabled slots: local-enable bit 2i, and at 16+4i the
// R/W field (01 write, 11 read or write) and the length field (00 1
// byte, 01 2, 11 4, 10 8 bytes; Intel SDM 3B §17.2.4).
func dr7(slots *[NumWatchSlots]watchSlot) uint64 {
	var v uint64
	for i, s := range slots {
		if !s.on {
			continue
		}
		rw := uint64(0b01)
		if s.rw {
			rw = 0b11
		}
		ln := map[int]uint64{1: 0b00, 2: 0b01, 4: 0b11, 8: 0b10}[s.size]
		v |= 1 << (2 * i)
		v |= (rw | ln<<2) << (16 + 4*i)
	}
	return v
}

// SetWatchpoint arms debug register slot on every thread, and on every
// thread created later, to trap after an instruction writes (or, with rw,
// reads or writes) the size bytes at addr, which must be aligned to size.
func (p *Process) SetWatchpoint(slot int, addr uint64, size int, rw bool) error {
	if slot < 0 || slot >= NumWatchSlots {
		return fmt.Errorf("watchpoint slot %d: %w", slot, errors.New("hardware breakpoints exhausted"))
	}
	switch size {
	case 1, 2, 4, 8:
	default:
		return fmt.Errorf("data breakpoint of size %d not supported", size)
	}
	if addr%uint64(size) != 0 {
		return fmt.Errorf("watchpoint at %#x: not aligned to its size %d", addr, size)
	}
	return p.do(func() error {
		old := p.watch[slot]
		p.watch[slot] = watchSlot{addr: addr, size: size, rw: rw, on: true}
		if err := p.applyWatchAll(); err != nil {
			p.watch[slot] = old
			return errors.Join(err, p.applyWatchAll())
		}
		return nil
	})
}

// ClearWatchpoint disarms slot on every thread.
func (p *Process) ClearWatchpoint(slot int) error {
	if slot < 0 || slot >= NumWatchSlots {
		return fmt.Errorf("no watchpoint slot %d", slot)
	}
	return p.do(func() error {
		p.watch[slot] = watchSlot{}
		return p.applyWatchAll()
	})
}

// WatchHits returns the slots whose watchpoint trapped on this thread
// since the last call (bit i: slot i), and forgets them.
func (t *Thread) WatchHits() uint8 {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	h := t.watchHits
	t.watchHits = 0
	return h
}

// applyWatchAll writes the slots into every stopped thread now; running
// ones (none while the debugger holds the process) get them on resume.
func (p *Process) applyWatchAll() error {
	p.watchGen++
	var errs []error
	for _, t := range p.Threads() {
		if t.stopped {
			errs = append(errs, p.applyWatch(t))
		}
	}
	return errors.Join(errs...)
}

// applyWatch brings t's debug registers up to date. DR7 is cleared first:
// the kernel checks each enabled slot's address when DR7 is written, and a
// slot being moved must not be live with half its new settings.
func (p *Process) applyWatch(t *Thread) error {
	if t.watchGen == p.watchGen {
		return nil
	}
	if err := pokeDebugReg(t.tid, 7, 0); err != nil {
		return err
	}
	for i, s := range p.watch {
		if s.on {
			if err := pokeDebugReg(t.tid, i, s.addr); err != nil {
				return err
			}
		}
	}
	if v := dr7(&p.watch); v != 0 {
		if err := pokeDebugReg(t.tid, 7, v); err != nil {
			return err
		}
	}
	t.watchGen = p.watchGen
	return nil
}

// noteWatchHit reads DR6 after a SIGTRAP and records which enabled slots
// caused it; a trap with none is an int3 or a single step. DR6 is
// sticky, so it is cleared for the next trap.
func (p *Process) noteWatchHit(t *Thread) uint8 {
	if dr7(&p.watch) == 0 {
		return 0
	}
	dr6, err := peekDebugReg(t.tid, 6)
	if err != nil {
		return 0
	}
	var hits uint8
	for i, s := range p.watch {
		if s.on && dr6&(1<<i) != 0 {
			hits |= 1 << i
		}
	}
	if dr6&0xf != 0 {
		_ = pokeDebugReg(t.tid, 6, 0)
	}
	if hits != 0 {
		p.mu.Lock()
		t.watchHits |= hits
		p.mu.Unlock()
	}
	return hits
}

// disarmWatch clears DR7 before detaching, so that the program, no longer
// traced, cannot die of a SIGTRAP from a watchpoint left behind.
func (p *Process) disarmWatch(t *Thread) {
	if p.watchGen != 0 {
		_ = pokeDebugReg(t.tid, 7, 0)
	}
}

func pokeDebugReg(tid, i int, v uint64) error {
	err := ptrace(unix.PTRACE_POKEUSR, tid, uintptr(debugRegOffset+8*i), uintptr(v))
	if err != nil {
		return fmt.Errorf("writing DR%d of thread %d: %w", i, tid, err)
	}
	return nil
}

func peekDebugReg(tid, i int) (uint64, error) {
	var v uint64
	// The raw request stores the word at data; the libc wrapper's
	// return-value convention does not apply to the system call.
	err := ptrace(unix.PTRACE_PEEKUSR, tid, uintptr(debugRegOffset+8*i), uintptr(unsafe.Pointer(&v)))
	runtime.KeepAlive(&v)
	if err != nil {
		return 0, fmt.Errorf("reading DR%d of thread %d: %w", i, tid, err)
	}
	return v, nil
}
