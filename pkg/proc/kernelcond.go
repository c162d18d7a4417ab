package proc

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// KernelConditions is implemented by a backend that can evaluate a
// breakpoint's condition in the kernel (a uprobe running a BPF program), so
// that hits where it is false never stop the program.
type KernelConditions interface {
	KernelBreakpoint(spec KernelBPSpec) (KernelBP, error)
}

// ErrKernelUnavailable is wrapped by a backend's KernelBreakpoint when the
// machine cannot run kernel conditions at all (no BPF permission, no
// uprobes), as opposed to one breakpoint that cannot have one.
var ErrKernelUnavailable = errors.New("no eBPF")

// KernelBPSpec is one logical breakpoint whose condition the kernel evaluates.
type KernelBPSpec struct {
	Path       string       // the executable to probe
	Sites      []KernelSite // every address of the breakpoint
	GoidOffset int64        // of runtime.g.goid, for the per-goroutine hit counts
	EndSym     string       // the label each site's Cond jumps to when done
	HitCond    *HitCondition
	PerG       bool
	// Total and PerGCounts start the counts (hits carried over).
	Total      uint64
	PerGCounts map[int64]uint64
}

// KernelSite is one address of a kernel breakpoint.
type KernelSite struct {
	Addr uint64 // run-time address of the breakpoint
	// Probe is where the uprobe goes: Addr, or an earlier instruction the
	// kernel emulates (a PUSH of the prologue) from which straight-line
	// code leads to Addr; the backend then steps the thread to Addr.
	Probe      uint64
	FileOffset uint64 // of the instruction at Probe in Path
	// Cond follows the contract of pkg/proc/ebpf/cond: R6 = pt_regs, R0 =
	// 0/1/2 (false/true/fault) then a jump to the wrapper's end label.
	// Nil means always true (a hit condition alone).
	Cond asm.Instructions
}

// KernelCounts are a kernel breakpoint's counts: hits whose condition held
// (total and per goroutine, as Delve counts them) and evaluations that read
// an invalid pointer (counted, and false).
type KernelCounts struct {
	Total  uint64
	Faults uint64
	PerG   map[int64]uint64
}

// KernelBP is a kernel breakpoint the backend installed.
type KernelBP interface {
	// Counts reads the counts from the kernel.
	Counts() (KernelCounts, error)
	// AddHit counts a hit of goroutine goid that the debugger evaluated
	// itself (while the site was suspended) and returns the new counts.
	AddHit(goid int64) (KernelCounts, error)
	// Suspend removes the probe at addr, Resume puts it back: an int3 of
	// the debugger's own is then at addr and the kernel's would hide it.
	Suspend(addr uint64) error
	Resume(addr uint64) error
	// Close removes every probe and releases the program and its counts.
	Close() error
}

// CondMode says how a breakpoint's condition is evaluated.
type CondMode int

// Condition evaluation modes.
const (
	CondStop   CondMode = iota // stop the program at every hit and evaluate
	CondKernel                 // evaluated in the kernel; stops only when it holds
)

// KernelCond is what SetKernelCond needs to evaluate bp's condition in the
// kernel: the compiled condition and where the uprobes go.
type KernelCond struct {
	Path       string
	GoidOffset int64
	// Cond compiles the condition for one address (locations differ from
	// one PC to another); nil: no condition.
	Cond   func(addr uint64) (asm.Instructions, error)
	EndSym string
	// FileOffset maps a run-time address to its offset in Path.
	FileOffset func(addr uint64) (uint64, error)
}

// kernelAddr is one address of a kernel breakpoint in the table.
type kernelAddr struct {
	bp        *Breakpoint
	suspended bool // an int3 of ours is there instead (see acquire)
}

// SetKernelCond moves bp's condition (bp.CondExpr, already set, and its hit
// condition) into the kernel. When that is not possible bp stays a
// stop-and-evaluate breakpoint and the error says why; bp.CondFallback
// holds the same reason.
func (t *Target) SetKernelCond(bp *Breakpoint, kc KernelCond) error {
	if err := t.checkAlive(); err != nil {
		return err
	}
	t.dropKernelCond(bp)
	err := t.setKernelCond(bp, kc)
	if err != nil {
		bp.CondMode, bp.CondFallback = CondStop, err.Error()
	}
	return err
}

func (t *Target) setKernelCond(bp *Breakpoint, kc KernelCond) error {
	kb, ok := t.proc.(KernelConditions)
	if !ok {
		return errors.New("this backend cannot evaluate conditions in the kernel")
	}
	if bp.Watch != nil {
		return errors.New("watchpoint")
	}
	if bp.HitCond != nil && bp.HitCond.Op == "%" && bp.HitCond.N == 0 {
		return errors.New("hit condition % 0")
	}
	spec := KernelBPSpec{Path: kc.Path, GoidOffset: kc.GoidOffset, EndSym: kc.EndSym,
		HitCond: bp.HitCond, PerG: bp.HitCondPerG, Total: bp.TotalHitCount, PerGCounts: bp.HitCount}
	for _, pc := range bp.Addrs {
		if t.bps.phys[pc] == nil || t.bps.phys[pc].refs != 1 {
			// Another int3 of ours (a step's) is there: the kernel's
			// probe would hide it. Rare enough to leave to the debugger.
			return fmt.Errorf("address %#x is in use by a stepping breakpoint", pc)
		}
		site, err := t.kernelSite(kc, pc)
		if err != nil {
			return err
		}
		spec.Sites = append(spec.Sites, site)
	}
	// Our int3s go first: the kernel installs its probe only where it
	// finds the original instruction, and would take ours for its own.
	var errs []error
	for _, pc := range bp.Addrs {
		errs = append(errs, t.bps.release(t.proc, pc))
	}
	kbp, err := kb.KernelBreakpoint(spec)
	if err == nil {
		err = errors.Join(errs...)
		if err != nil {
			err = errors.Join(err, kbp.Close())
		}
	}
	if err != nil {
		for _, pc := range bp.Addrs {
			err = errors.Join(err, t.bps.acquire(t.proc, pc))
		}
		return err
	}
	for _, pc := range bp.Addrs {
		t.bps.kern[pc] = &kernelAddr{bp: bp}
	}
	bp.kernel, bp.kc = kbp, &kc
	bp.CondMode, bp.CondFallback = CondKernel, ""
	return nil
}

// DropKernelCond returns bp to stop-and-evaluate (its condition changed),
// keeping its hit counts.
func (t *Target) DropKernelCond(bp *Breakpoint) error {
	bp.CondFallback = ""
	return t.dropKernelCond(bp)
}

func (t *Target) dropKernelCond(bp *Breakpoint) error {
	if bp.kernel == nil {
		return nil
	}
	t.syncKernelCounts(bp)
	var errs []error
	for _, pc := range bp.Addrs {
		ka := t.bps.kern[pc]
		delete(t.bps.kern, pc)
		if t.exited || ka == nil {
			continue
		}
		if ka.suspended {
			// The suspension's int3 becomes the breakpoint's own.
			continue
		}
		errs = append(errs, t.bps.acquire(t.proc, pc))
	}
	errs = append(errs, bp.kernel.Close())
	bp.kernel, bp.kc, bp.CondMode = nil, nil, CondStop
	return errors.Join(errs...)
}

// syncKernelCounts copies a kernel breakpoint's counts into bp.
func (t *Target) syncKernelCounts(bp *Breakpoint) {
	if bp.kernel == nil {
		return
	}
	c, err := bp.kernel.Counts()
	if err != nil {
		return // the last counts read stay; nothing better is known
	}
	bp.setCounts(c)
}

func (bp *Breakpoint) setCounts(c KernelCounts) {
	bp.TotalHitCount, bp.CondFaults = c.Total, c.Faults
	bp.HitCount = map[int64]uint64{}
	for g, n := range c.PerG {
		bp.HitCount[g] = n
	}
}

// syncAllKernelCounts refreshes every kernel breakpoint after a stop.
func (t *Target) syncAllKernelCounts() {
	for _, bp := range t.user {
		t.syncKernelCounts(bp)
	}
}

// kernelHit decides a hit of a kernel breakpoint at pc. Without our int3
// there the kernel has evaluated everything and the hit stands; with one
// (suspended for a stepping breakpoint) the condition is evaluated here
// and the hit counted in the kernel's counts, which stay the only ones.
func (t *Target) kernelHit(bp *Breakpoint, pc uint64, goid int64) (bool, error) {
	ka := t.bps.kern[pc]
	if ka == nil || !ka.suspended {
		t.syncKernelCounts(bp)
		return true, nil
	}
	ok, condErr := t.evalCond(bp, goid)
	if condErr == nil && !ok {
		return false, nil
	}
	c, err := bp.kernel.AddHit(goid)
	if err != nil {
		return true, errors.Join(condErr, fmt.Errorf("counting hit: %w", err))
	}
	bp.setCounts(c)
	return bp.hitAfterCond(goid, condErr)
}

// closeKernel removes every kernel probe (detach, kill, exit, restart).
func (t *Target) closeKernel() error {
	var errs []error
	for _, bp := range t.user {
		if bp.kernel == nil {
			continue
		}
		t.syncKernelCounts(bp)
		errs = append(errs, bp.kernel.Close())
		bp.kernel = nil
	}
	t.bps.kern = map[uint64]*kernelAddr{}
	return errors.Join(errs...)
}

// suspendKernel is called by acquire before it writes an int3 where a
// kernel probe is: the probe goes (it would take the trap first) and the
// int3 gets one more reference, held for the kernel breakpoint, whose
// hits are then evaluated here (kernelHit).
func (bt *breakpointTable) suspendKernel(addr uint64) (extraRef bool, err error) {
	ka := bt.kern[addr]
	if ka == nil || ka.suspended {
		return false, nil
	}
	if err := ka.bp.kernel.Suspend(addr); err != nil {
		return false, fmt.Errorf("suspending the kernel condition at %#x: %w", addr, err)
	}
	ka.suspended = true
	return true, nil
}

// resumeKernel is called by release when only the kernel breakpoint's
// reference is left on an int3: the int3 goes and the probe comes back.
func (bt *breakpointTable) resumeKernel(mem Process, bp *physBreakpoint) (bool, error) {
	ka := bt.kern[bp.addr]
	if ka == nil || !ka.suspended || bp.refs != 1 {
		return false, nil
	}
	if _, err := mem.WriteMemory(bp.addr, []byte{bp.orig}); err != nil {
		return true, fmt.Errorf("restoring byte at %#x: %w", bp.addr, err)
	}
	delete(bt.phys, bp.addr)
	ka.suspended = false
	if err := ka.bp.kernel.Resume(bp.addr); err != nil {
		return true, fmt.Errorf("resuming the kernel condition at %#x: %w", bp.addr, err)
	}
	return true, nil
}

// CondModeText says how bp's condition is evaluated, for listings:
// "in kernel", or "stops to evaluate" with the reason when the kernel was
// asked and could not.
func (bp *Breakpoint) CondModeText() string {
	if bp.CondMode == CondKernel {
		return "in kernel"
	}
	if bp.CondFallback != "" {
		return "stops to evaluate: " + bp.CondFallback
	}
	return "stops to evaluate"
}

// NewKernelCond describes a compiled condition for this target's binary:
// the probes go into its executable at the offsets fileOffset gives (of a
// run-time address, e.g. probe.FileOffset with the target's BinInfo) and
// the goroutine ids come from its runtime.g.
func (t *Target) NewKernelCond(compile func(addr uint64) (asm.Instructions, error), endSym string,
	fileOffset func(addr uint64) (uint64, error)) (KernelCond, error) {
	if t.bi == nil {
		return KernelCond{}, errors.New("no binary to probe")
	}
	rt, err := t.bi.RuntimeLayout()
	if err != nil {
		return KernelCond{}, fmt.Errorf("reading the runtime layout: %w", err)
	}
	if !rt.ABIInternal || rt.G.Goid < 0 {
		return KernelCond{}, errors.New("needs the register ABI (Go 1.17+) and runtime.g.goid")
	}
	return KernelCond{Path: t.bi.Path(), GoidOffset: rt.G.Goid, Cond: compile, EndSym: endSym, FileOffset: fileOffset}, nil
}

// kernelSite places the probe of one address: on the emulated PUSH of the
// prologue before it when there is one and the condition compiles there
// (the kernel single-steps any other instruction out of line, which costs
// a hundred times more on some machines), else on the address itself.
func (t *Target) kernelSite(kc KernelCond, pc uint64) (KernelSite, error) {
	compile := func(at uint64) (KernelSite, error) {
		off, err := kc.FileOffset(at)
		if err != nil {
			return KernelSite{}, fmt.Errorf("address %#x: %w", at, err)
		}
		site := KernelSite{Addr: pc, Probe: at, FileOffset: off}
		if kc.Cond != nil {
			if site.Cond, err = kc.Cond(at); err != nil {
				return KernelSite{}, err
			}
		}
		return site, nil
	}
	if push, ok := t.pushBefore(pc); ok {
		if site, err := compile(push); err == nil {
			return site, nil
		}
	}
	return compile(pc)
}
