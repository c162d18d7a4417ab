package native

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/tinydbg/tinydbg/internal/pidns"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/tinydbg/tinydbg/pkg/proc"
)

// Breakpoints whose condition the kernel evaluates: a uprobe at each
// address runs a program that evaluates the condition, counts the hit (in
// total and per goroutine), applies the hit condition and only then
// records the registers it saw, keyed by thread, and raises SIGTRAP on the
// thread. The kernel delivers that signal after the probed instruction has
// run; the trap handler (kstop.go) puts the recorded registers back, so
// that the core sees an int3 hit at the address.

const (
	maxKernelSlots = 1024  // logical kernel breakpoints per process
	maxRecords     = 4096  // threads with a hit not yet collected
	maxPerG        = 65536 // (breakpoint, goroutine) hit counters
	nRegs          = 21    // u64 slots of struct pt_regs on x86-64, r15 … ss
	recordSize     = (nRegs + 1) * 8
)

// kernelConds is a process's kernel breakpoints and the maps they share.
type kernelConds struct {
	mu      sync.Mutex // guards everything: ReadMemory masks from any goroutine
	records *ebpf.Map  // tid → registers at the probe and the probe's address
	skip    *ebpf.Map  // tid → address whose next hit by that thread is not evaluated
	counts  *ebpf.Map  // slot → {hits whose condition held, faults}
	perG    *ebpf.Map  // {slot, goid} → hits
	slots   [maxKernelSlots]bool
	sites   map[uint64]*kernelSite // attached probes by run-time probe address
	bps     map[*kernelBreakpoint]bool
	foreign map[*int]map[uint64]byte // other uprobes' original bytes (MaskText)
	ns      pidns.NS                 // tinydbg's pid namespace: how the programs name threads
	err     error                    // why the maps could not be made; sticky
	gone    bool                     // the process was detached, killed or ended
}

// kernelSite is one probed address.
type kernelSite struct {
	addr  uint64 // the breakpoint
	probe uint64 // where the uprobe is: addr or a PUSH before it
	off   uint64 // the probe's file offset
	orig  byte   // the byte the uprobe's int3 hides
	cond  asm.Instructions
	prog  *ebpf.Program
	link  link.Link // nil while suspended
}

// kernelBreakpoint implements proc.KernelBP.
type kernelBreakpoint struct {
	p     *Process
	path  string
	slot  uint32
	sites map[uint64]*kernelSite
}

func (k *kernelConds) init() error {
	if k.records != nil || k.err != nil {
		return k.err
	}
	mk := func(name string, typ ebpf.MapType, key, val, max uint32) *ebpf.Map {
		if k.err != nil {
			return nil
		}
		m, err := ebpf.NewMap(&ebpf.MapSpec{Name: name, Type: typ, KeySize: key, ValueSize: val, MaxEntries: max})
		if err != nil {
			k.err = fmt.Errorf("%w: creating BPF map %s: %w", proc.ErrKernelUnavailable, name, err)
		}
		return m
	}
	ns, err := pidns.Self()
	if err != nil {
		k.err = fmt.Errorf("%w: %w", proc.ErrKernelUnavailable, err)
		return k.err
	}
	k.ns = ns
	recs := mk("tdbg_records", ebpf.Hash, 4, recordSize, maxRecords)
	skip := mk("tdbg_skip", ebpf.Hash, 4, 8, maxRecords)
	counts := mk("tdbg_counts", ebpf.Array, 4, 16, maxKernelSlots)
	perG := mk("tdbg_perg", ebpf.Hash, 16, 8, maxPerG)
	if k.err != nil {
		for _, m := range []*ebpf.Map{recs, skip, counts, perG} {
			if m != nil {
				m.Close()
			}
		}
		return k.err
	}
	k.records, k.skip, k.counts, k.perG = recs, skip, counts, perG
	k.sites = map[uint64]*kernelSite{}
	k.bps = map[*kernelBreakpoint]bool{}
	return nil
}

// KernelBreakpoint implements proc.KernelConditions: it loads one program
// per address and attaches it with a uprobe limited to this process.
func (p *Process) KernelBreakpoint(spec proc.KernelBPSpec) (proc.KernelBP, error) {
	k := &p.kern
	k.mu.Lock()
	defer k.mu.Unlock()
	if p.finished() || k.gone {
		return nil, p.goneErr()
	}
	if err := k.init(); err != nil {
		return nil, err
	}
	slot := -1
	for i, used := range k.slots {
		if !used {
			slot = i
			break
		}
	}
	if slot < 0 {
		return nil, fmt.Errorf("more than %d kernel conditions", maxKernelSlots)
	}
	f, err := os.Open(spec.Path)
	if err != nil {
		return nil, fmt.Errorf("opening the executable for uprobes: %w", err)
	}
	defer f.Close()
	kb := &kernelBreakpoint{p: p, path: spec.Path, slot: uint32(slot), sites: map[uint64]*kernelSite{}}
	for _, s := range spec.Sites {
		var text [16]byte
		if _, err := f.ReadAt(text[:], int64(s.FileOffset)); err != nil {
			return nil, fmt.Errorf("reading the instruction at %#x: %w", s.Addr, err)
		}
		probe := s.Probe
		if probe == 0 {
			probe = s.Addr
		}
		if why := notReplayable(text[:]); why != "" {
			return nil, fmt.Errorf("the instruction at %#x is %s", probe, why)
		}
		if k.sites[probe] != nil {
			return nil, fmt.Errorf("address %#x already has a kernel condition", probe)
		}
		kb.sites[s.Addr] = &kernelSite{addr: s.Addr, probe: probe, off: s.FileOffset, orig: text[0], cond: s.Cond}
	}
	if err := k.resetCounts(kb.slot, spec.Total, spec.PerGCounts); err != nil {
		return nil, err
	}
	for _, s := range kb.sites {
		insns := siteProgram(k, siteParams{addr: s.probe, slot: kb.slot, goidOff: spec.GoidOffset,
			cond: s.cond, endSym: spec.EndSym, hit: spec.HitCond, perG: spec.PerG})
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "tdbg_cond", Type: ebpf.Kprobe, License: "GPL", Instructions: insns})
		if err != nil {
			kb.closeLocked()
			if errors.Is(err, os.ErrPermission) {
				err = fmt.Errorf("%w: %w", proc.ErrKernelUnavailable, err)
			}
			return nil, fmt.Errorf("loading the condition program: %w", err)
		}
		s.prog = prog
		if err := kb.attachLocked(s); err != nil {
			kb.closeLocked()
			return nil, err
		}
	}
	k.slots[slot] = true
	k.bps[kb] = true
	return kb, nil
}

func (kb *kernelBreakpoint) attachLocked(s *kernelSite) error {
	ex, err := link.OpenExecutable(kb.path)
	if err != nil {
		return fmt.Errorf("opening %s for uprobes: %w", kb.path, err)
	}
	l, err := ex.Uprobe("", s.prog, &link.UprobeOptions{Address: s.off, PID: kb.p.pid})
	if err != nil {
		// Attaching fails for every site alike when the kernel has no
		// uprobes (or perf events are forbidden); the instruction itself
		// was checked before.
		return fmt.Errorf("%w: attaching a uprobe at %#x: %w", proc.ErrKernelUnavailable, s.probe, err)
	}
	s.link = l
	kb.p.kern.sites[s.probe] = s
	return nil
}

func (kb *kernelBreakpoint) detachLocked(s *kernelSite) error {
	if s.link == nil {
		return nil
	}
	err := s.link.Close()
	s.link = nil
	delete(kb.p.kern.sites, s.probe)
	if err != nil {
		return fmt.Errorf("removing the uprobe at %#x: %w", s.probe, err)
	}
	return nil
}

// Suspend implements proc.KernelBP.
func (kb *kernelBreakpoint) Suspend(addr uint64) error {
	kb.p.kern.mu.Lock()
	defer kb.p.kern.mu.Unlock()
	s := kb.sites[addr]
	if s == nil {
		return fmt.Errorf("no kernel condition at %#x", addr)
	}
	return kb.detachLocked(s)
}

// Resume implements proc.KernelBP.
func (kb *kernelBreakpoint) Resume(addr uint64) error {
	kb.p.kern.mu.Lock()
	defer kb.p.kern.mu.Unlock()
	s := kb.sites[addr]
	if s == nil || s.link != nil {
		return nil
	}
	if kb.p.kern.gone {
		return kb.p.goneErr()
	}
	return kb.attachLocked(s)
}

// Close implements proc.KernelBP; closing twice is harmless.
func (kb *kernelBreakpoint) Close() error {
	kb.p.kern.mu.Lock()
	defer kb.p.kern.mu.Unlock()
	return kb.closeLocked()
}

func (kb *kernelBreakpoint) closeLocked() error {
	k := &kb.p.kern
	var errs []error
	for _, s := range kb.sites {
		errs = append(errs, kb.detachLocked(s))
		if s.prog != nil {
			s.prog.Close()
			s.prog = nil
		}
	}
	kb.sites = map[uint64]*kernelSite{}
	if k.bps[kb] {
		delete(k.bps, kb)
		k.slots[kb.slot] = false
	}
	k.closeMapsIfDone()
	return errors.Join(errs...)
}

// closeProbes removes every probe of the process: detach, kill and exit
// leave none behind, whatever the core does. The counts stay readable
// until the core closes its breakpoints.
func (k *kernelConds) closeProbes() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for kb := range k.bps {
		for _, s := range kb.sites {
			_ = kb.detachLocked(s)
			if s.prog != nil {
				s.prog.Close()
				s.prog = nil
			}
		}
	}
	k.gone = true
	k.closeMapsIfDone()
}

// closeMapsIfDone releases the maps once the process is gone and no
// breakpoint needs its counts any more.
func (k *kernelConds) closeMapsIfDone() {
	if !k.gone || len(k.bps) > 0 {
		return
	}
	for _, m := range []*ebpf.Map{k.records, k.skip, k.counts, k.perG} {
		if m != nil {
			m.Close()
		}
	}
	k.records, k.skip, k.counts, k.perG = nil, nil, nil, nil
	k.err = errors.New("the process is gone")
}

// Counts implements proc.KernelBP.
func (kb *kernelBreakpoint) Counts() (proc.KernelCounts, error) {
	k := &kb.p.kern
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.readCounts(kb.slot)
}

// AddHit implements proc.KernelBP.
func (kb *kernelBreakpoint) AddHit(goid int64) (proc.KernelCounts, error) {
	k := &kb.p.kern
	k.mu.Lock()
	defer k.mu.Unlock()
	c, err := k.readCounts(kb.slot)
	if err != nil {
		return c, err
	}
	c.Total++
	c.PerG[goid]++
	if err := k.writeCounts(kb.slot, c.Total, c.Faults, map[int64]uint64{goid: c.PerG[goid]}); err != nil {
		return c, err
	}
	return c, nil
}

func (k *kernelConds) readCounts(slot uint32) (proc.KernelCounts, error) {
	c := proc.KernelCounts{PerG: map[int64]uint64{}}
	if k.counts == nil {
		return c, errors.New("no kernel counts: the process is gone")
	}
	var v [16]byte
	if err := k.counts.Lookup(slot, v[:]); err != nil {
		return c, fmt.Errorf("reading hit counts: %w", err)
	}
	c.Total, c.Faults = binary.LittleEndian.Uint64(v[:8]), binary.LittleEndian.Uint64(v[8:])
	var key [16]byte
	var n uint64
	it := k.perG.Iterate()
	for it.Next(&key, &n) {
		if binary.LittleEndian.Uint32(key[:4]) == slot {
			c.PerG[int64(binary.LittleEndian.Uint64(key[8:]))] = n
		}
	}
	if err := it.Err(); err != nil {
		return c, fmt.Errorf("reading per-goroutine hit counts: %w", err)
	}
	return c, nil
}

func perGKey(slot uint32, goid int64) []byte {
	key := make([]byte, 16)
	binary.LittleEndian.PutUint32(key[:4], slot)
	binary.LittleEndian.PutUint64(key[8:], uint64(goid))
	return key
}

func (k *kernelConds) writeCounts(slot uint32, total, faults uint64, perG map[int64]uint64) error {
	var v [16]byte
	binary.LittleEndian.PutUint64(v[:8], total)
	binary.LittleEndian.PutUint64(v[8:], faults)
	if err := k.counts.Update(slot, v[:], ebpf.UpdateAny); err != nil {
		return fmt.Errorf("writing hit counts: %w", err)
	}
	for g, n := range perG {
		if err := k.perG.Update(perGKey(slot, g), n, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("writing the hit count of goroutine %d: %w", g, err)
		}
	}
	return nil
}

// resetCounts clears a slot's counts (an earlier breakpoint may have used
// it) and starts them at the hits carried over.
func (k *kernelConds) resetCounts(slot uint32, total uint64, perG map[int64]uint64) error {
	var key [16]byte
	var n uint64
	var stale [][]byte
	it := k.perG.Iterate()
	for it.Next(&key, &n) {
		if binary.LittleEndian.Uint32(key[:4]) == slot {
			stale = append(stale, append([]byte(nil), key[:]...))
		}
	}
	for _, key := range stale {
		_ = k.perG.Delete(key)
	}
	return k.writeCounts(slot, total, 0, perG)
}

// mask puts back the original bytes the uprobes' int3s hide in buf, read
// at addr, as pkg/proc does for its own: users never see them.
func (k *kernelConds) mask(buf []byte, addr uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for a, s := range k.sites {
		if a >= addr && a-addr < uint64(len(buf)) {
			buf[a-addr] = s.orig
		}
	}
	for _, sites := range k.foreign {
		for a, orig := range sites {
			if a >= addr && a-addr < uint64(len(buf)) {
				buf[a-addr] = orig
			}
		}
	}
}

// siteAt returns the attached probe at addr.
func (k *kernelConds) siteAt(addr uint64) *kernelSite {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sites[addr]
}

// siteParams is what one site's program is generated from.
type siteParams struct {
	addr    uint64
	slot    uint32
	goidOff int64
	cond    asm.Instructions
	endSym  string
	hit     *proc.HitCondition
	perG    bool
}
