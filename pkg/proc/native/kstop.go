package native

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelHit is a thread stopped by a kernel condition's signal. The
// kernel ran the probed instruction before delivering it; the thread
// shows the registers of before (pre, PC on the address), and post are
// the ones of after, put back when it leaves the address untouched.
type kernelHit struct {
	pre, post unix.PtraceRegs
}

// takeKernelHit is called for every kernel SIGTRAP. If the thread's
// record is there, the trap is a kernel condition's: the thread gets the
// registers the probe saw, PC just past the address as after an int3, so
// that the core handles it as one. Returns whether it was.
func (p *Process) takeKernelHit(t *Thread) bool {
	k := &p.kern
	k.mu.Lock()
	recs := k.records
	k.mu.Unlock()
	if recs == nil {
		return false
	}
	var rec [recordSize]byte
	if recs.LookupAndDelete(uint32(t.tid), rec[:]) != nil {
		return false
	}
	var post unix.PtraceRegs
	if unix.PtraceGetRegs(t.tid, &post) != nil {
		return false
	}
	pre := post // fs_base, gs_base and the segment registers are not in pt_regs
	words := (*[nRegs]uint64)(unsafe.Pointer(&pre))
	for i := range words {
		words[i] = binary.LittleEndian.Uint64(rec[8*i:])
	}
	addr := binary.LittleEndian.Uint64(rec[8*nRegs:])
	if s := k.siteAt(addr); s != nil && s.probe != s.addr {
		// Probed on the prologue's PUSH, which the kernel emulated: the
		// thread runs on to the breakpoint once every thread is stopped
		// (advanceKernelHits); nothing is replayed.
		t.kadvance = s.addr
		return true
	}
	pre.Rip = addr + 1
	if unix.PtraceSetRegs(t.tid, &pre) != nil {
		return false
	}
	pre.Rip = addr
	t.khit = &kernelHit{pre: pre, post: post}
	return true
}

// settleKernelHit is called before a thread that stopped on a kernel
// condition runs again. Unchanged since the stop (on the address, or just
// past it if the core did not rewind it), it gets the registers of after
// the instruction, which the kernel already ran: nothing runs twice.
// Otherwise it runs from where it was put, and if that is a probed
// address, that thread's next hit there is not evaluated (skipOnce).
// Returns whether it put the registers of after back (the step is done).
func (p *Process) settleKernelHit(t *Thread) bool {
	kh := t.khit
	if kh == nil {
		return false
	}
	t.khit = nil
	var cur unix.PtraceRegs
	if unix.PtraceGetRegs(t.tid, &cur) != nil {
		return false
	}
	past := kh.pre
	past.Rip++
	if cur == kh.pre || cur == past {
		return unix.PtraceSetRegs(t.tid, &kh.post) == nil
	}
	p.skipOnce(t, cur.Rip)
	return false
}

// skipOnce makes the probe at pc, if any, pass over this thread's next
// hit: the debugger is moving it over the address itself.
func (p *Process) skipOnce(t *Thread, pc uint64) bool {
	k := &p.kern
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sites[pc] == nil || k.skip == nil {
		return false
	}
	return k.skip.Update(uint32(t.tid), pc, 0) == nil
}

// unskip forgets a skipOnce the thread did not use.
func (p *Process) unskip(t *Thread) {
	k := &p.kern
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.skip != nil {
		_ = k.skip.Delete(uint32(t.tid))
	}
}

// uprobeStepTrap recognizes the SIGTRAP the kernel sends with kill's
// si_code when a single step runs through a uprobe (it stepped the
// instruction out of line): the step is done, and the signal is the
// debugger's own.
func (p *Process) uprobeStepTrap(t *Thread, e event) bool {
	if e.kind != evSignal || e.signal != int(unix.SIGTRAP) || len(t.pending) == 0 {
		return false
	}
	last := t.pending[len(t.pending)-1]
	if last.sig != int(unix.SIGTRAP) || last.info.code() != 0 || last.info.pid() != int32(p.pid) {
		return false
	}
	t.pending = t.pending[:len(t.pending)-1]
	return true
}

// maxAdvance bounds the steps from a probed PUSH to its breakpoint.
const maxAdvance = 16

// advanceKernelHits steps every thread that hit a probe placed before its
// breakpoint on to the breakpoint, then leaves it as an int3 there would
// (PC just past it). Every thread is stopped, so the steps run alone. A
// thread that does not get there (it faulted, say) is left where it is:
// the core then sees a trap that is not a breakpoint and passes it over.
func (p *Process) advanceKernelHits(trapped []*Thread) {
	for _, t := range trapped {
		target := t.kadvance
		if target == 0 {
			continue
		}
		t.kadvance = 0
		for i := 0; i <= maxAdvance; i++ {
			var regs unix.PtraceRegs
			if unix.PtraceGetRegs(t.tid, &regs) != nil {
				break
			}
			if regs.Rip == target {
				regs.Rip++
				_ = unix.PtraceSetRegs(t.tid, &regs)
				break
			}
			if i == maxAdvance || p.step(t) != nil {
				break
			}
		}
	}
}
