package native

import (
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"golang.org/x/sys/unix"
)

// Probe is an int3 the caller has written at Addr over an instruction of
// the program. Orig holds the original bytes from Addr on: at least the
// whole displaced instruction (16 bytes always suffice).
type Probe struct {
	Addr uint64
	Orig []byte
}

// ProbeHit is one thread that executed a probe's int3.
type ProbeHit struct {
	Thread *Thread
	Addr   uint64 // the probe address
	// Regs are the thread's registers at the probe, before the displaced
	// instruction runs: Regs.Rip == Addr.
	Regs arch.Registers
	p    *Process
}

// ReadMemory reads the program's memory from inside a ProbeHandler, where
// calling the Process's own methods would deadlock.
func (h *ProbeHit) ReadMemory(buf []byte, addr uint64) (int, error) {
	return h.p.readOnPtraceThread(buf, addr)
}

// ProbeHandler is called for every probe hit on the ptrace thread, while
// the hit thread alone is stopped. It must not call methods of the Process
// or its Threads (they would wait for the ptrace thread it occupies); it
// reads memory through the hit. An error ends RunProbes.
type ProbeHandler func(h *ProbeHit) error

// RunProbes resumes every thread and reports each probe hit to handler
// without stopping the other threads: the hit thread runs the displaced
// instruction in the tracer (emulated for PUSHQ r64, RET, NOP, LEA and
// 32/64-bit MOV) and is resumed alone, and the int3 stays in place for the
// others. Other instructions are single-stepped with the original byte
// restored while every thread is stopped. Program signals and new threads
// are handled as by Continue; SIGTRAPs from int3s that are not probes are
// swallowed.
//
// It returns proc.StopKindExited or proc.StopKindKilled when the program
// ends, and proc.StopKindHalt, with every thread stopped and every hit
// already reported, after RequestHalt or a handler error (which is
// returned too).
func (p *Process) RunProbes(probes []Probe, handler ProbeHandler) (StopEvent, error) {
	r := &probeRun{p: p, handler: handler, sites: make(map[uint64]*probeSite, len(probes))}
	for _, pr := range probes {
		if len(pr.Orig) == 0 {
			return StopEvent{}, fmt.Errorf("probe at %#x: no original instruction bytes", pr.Addr)
		}
		inst, err := decodeProbe(pr.Orig)
		if err != nil {
			inst = emuInst{form: formNone} // the CPU knows better: single-step it
		}
		r.sites[pr.Addr] = &probeSite{addr: pr.Addr, orig: pr.Orig[0], inst: inst}
	}
	var ev StopEvent
	err := p.do(func() error {
		var err error
		ev, err = r.run()
		p.lastProbeRun = r.counts
		return err
	})
	return ev, err
}

// probeSite is one probe with its decoded instruction.
type probeSite struct {
	addr uint64
	orig byte // the instruction's first byte, under the int3
	inst emuInst
}

// probeCounts says how hits were passed over, for tests and tuning.
type probeCounts struct {
	hits, emulated, stepped uint64
}

// probeRun is the state of one RunProbes call; it lives on the ptrace thread.
type probeRun struct {
	p       *Process
	handler ProbeHandler
	sites   map[uint64]*probeSite
	err     error // the first handler error; later hits are passed over silently
	counts  probeCounts
}

func (r *probeRun) run() (StopEvent, error) {
	p := r.p
	if ev, ok, err := p.beginRun(); !ok {
		return ev, err
	}
	defer p.endRun()
	for r.err == nil {
		t, exit, over, err := p.waitStop()
		if err != nil || over {
			return exit, err
		}
		if t == nil { // RequestHalt
			ev, err := r.stopAndSettle(nil)
			return r.result(ev, err)
		}
		resumed, ev, err := r.trap(t)
		if err != nil || ev != nil {
			return r.result(ev, err)
		}
		if !resumed {
			if err := p.resume(t, unix.PTRACE_CONT, true); err != nil {
				return StopEvent{}, err
			}
		}
	}
	ev, err := r.stopAndSettle(nil)
	return r.result(ev, err)
}

// result turns the end of a run into RunProbes's return values.
func (r *probeRun) result(ev *StopEvent, err error) (StopEvent, error) {
	if err != nil {
		return StopEvent{}, err
	}
	if ev.Kind == proc.StopKindHalt || ev.Kind == proc.StopKindTrap {
		ev.Kind, ev.Trapped = proc.StopKindHalt, nil
	}
	return *ev, r.err
}

// trap handles a thread's SIGTRAP. Emulated probes and foreign traps resume
// the thread (resumed); the fallback runs an all-stop step and resumes
// everything. A non-nil event means the run is over (exit, handler error).
func (r *probeRun) trap(t *Thread) (resumed bool, end *StopEvent, err error) {
	p := r.p
	var regs unix.PtraceRegs
	if err := unix.PtraceGetRegs(t.tid, &regs); err != nil {
		if err == unix.ESRCH {
			return false, nil, nil // killed meanwhile; its exit report follows
		}
		return false, nil, fmt.Errorf("registers of thread %d: %w", t.tid, err)
	}
	s, emulated, err := r.hit(t, &regs)
	switch {
	case err != nil:
		return false, nil, err
	case s == nil:
		// runtime.Breakpoint or a single step we did not ask for: there is
		// nothing to report and the thread is already past it.
		return false, nil, nil
	case emulated:
		if err := p.resume(t, unix.PTRACE_CONT, true); err != nil {
			return false, nil, err
		}
		return true, nil, nil
	}
	ev, err := r.stopAndSettle([]*Thread{t})
	if err != nil || ev.Kind == proc.StopKindExited || ev.Kind == proc.StopKindKilled || r.err != nil {
		return false, ev, err
	}
	if err := p.resumeAll(); err != nil {
		return false, nil, err
	}
	return true, nil, nil
}

// hit handles a thread stopped by a SIGTRAP with regs its registers. If
// the trap is a probe's int3 (s non-nil) it reports the hit, then passes
// the thread over the displaced instruction by emulation if it can
// (emulated); otherwise it rewinds the thread onto the probe for stepOver.
func (r *probeRun) hit(t *Thread, regs *unix.PtraceRegs) (s *probeSite, emulated bool, err error) {
	s = r.sites[regs.Rip-1]
	if s == nil {
		return nil, false, nil
	}
	regs.Rip = s.addr
	r.report(t, s, regs)
	if r.emulate(t, s, regs) {
		return s, true, nil
	}
	if err := unix.PtraceSetRegs(t.tid, regs); err != nil {
		if err == unix.ESRCH {
			// Killed meanwhile (SIGKILL): there is nothing to step over,
			// and its exit report follows, as for resume.
			return s, false, nil
		}
		return s, false, fmt.Errorf("rewinding thread %d: %w", t.tid, err)
	}
	return s, false, nil
}

// report calls the handler for one hit unless an earlier call failed.
func (r *probeRun) report(t *Thread, s *probeSite, regs *unix.PtraceRegs) {
	r.counts.hits++
	if r.err != nil {
		return
	}
	h := ProbeHit{Thread: t, Addr: s.addr, Regs: fromPtrace(regs), p: r.p}
	if err := r.call(&h); err != nil {
		r.err = fmt.Errorf("probe at %#x: %w", s.addr, err)
	}
}

// call runs the handler, turning its panic into its error: the run then
// ends as after a handler error, every thread stopped and settled, where a
// panic unwinding through RunProbes would leave threads mid-probe.
func (r *probeRun) call(h *ProbeHit) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v", ErrPanicked, v)
		}
	}()
	return r.handler(h)
}

// emulate runs the displaced instruction of s in the tracer and stores the
// registers. A failure (say a fault on the stack) leaves the instruction to
// the CPU, which then reports the fault to the program as it would have.
func (r *probeRun) emulate(t *Thread, s *probeSite, regs *unix.PtraceRegs) bool {
	if s.inst.form == formNone {
		return false
	}
	after := *regs
	if emulate(&s.inst, s.addr, &after, liveMem{r.p}) != nil {
		return false
	}
	if unix.PtraceSetRegs(t.tid, &after) != nil {
		return false
	}
	*regs = after
	r.counts.emulated++
	return true
}

// stopAndSettle stops every thread, then passes every hit thread over its
// probe: first has already been reported and rewound; threads that hit a
// probe while being stopped are reported now. It returns the stop, whose
// kind is proc.StopKindExited/proc.StopKindKilled if the program ended meanwhile.
func (r *probeRun) stopAndSettle(first []*Thread) (*StopEvent, error) {
	p := r.p
	ev, err := p.stopAll(nil, proc.StopKindHalt)
	if err != nil || ev.Kind == proc.StopKindExited || ev.Kind == proc.StopKindKilled {
		return &ev, err
	}
	var steps []*Thread
	steps = append(steps, first...)
	for _, t := range ev.Trapped {
		var regs unix.PtraceRegs
		if unix.PtraceGetRegs(t.tid, &regs) != nil {
			continue
		}
		s, emulated, err := r.hit(t, &regs)
		if err != nil {
			return nil, err
		}
		if s != nil && !emulated {
			steps = append(steps, t)
		}
	}
	for _, t := range steps {
		if end, err := r.stepOver(t); err != nil || end != nil {
			return end, err
		}
	}
	return &StopEvent{Kind: proc.StopKindHalt}, nil
}

// stepOver single-steps a stopped thread standing on a probe through the
// original instruction while every other thread is stopped.
func (r *probeRun) stepOver(t *Thread) (*StopEvent, error) {
	p := r.p
	var regs unix.PtraceRegs
	if err := unix.PtraceGetRegs(t.tid, &regs); err != nil {
		return nil, nil // the thread is gone
	}
	s := r.sites[regs.Rip]
	if s == nil {
		return nil, nil
	}
	if _, err := p.writeOnPtraceThread(s.addr, []byte{s.orig}); err != nil {
		return nil, fmt.Errorf("restoring the instruction at %#x: %w", s.addr, err)
	}
	stepErr := p.step(t)
	if _, err := p.writeOnPtraceThread(s.addr, arch.BreakpointInstr); err != nil {
		return nil, fmt.Errorf("reinserting the probe at %#x: %w", s.addr, err)
	}
	r.counts.stepped++
	var pe *proc.ProcessExitedError
	var te *ThreadExitedError
	switch {
	case errors.As(stepErr, &pe):
		ev := StopEvent{Kind: proc.StopKindExited, ExitCode: pe.ExitCode}
		if pe.Signal != 0 {
			ev = StopEvent{Kind: proc.StopKindKilled, Signal: pe.Signal}
		}
		return &ev, nil
	case errors.As(stepErr, &te):
		return nil, nil
	case stepErr != nil:
		return nil, stepErr
	}
	return nil, nil
}

// resumeAll restarts every stopped thread, delivering owed signals.
func (p *Process) resumeAll() error {
	for _, t := range p.Threads() {
		if !t.stopped {
			continue
		}
		if err := p.resume(t, unix.PTRACE_CONT, true); err != nil {
			return err
		}
	}
	return nil
}

// liveMem is the tracee's memory as the emulator sees it, accessed from the
// ptrace thread without a round trip.
type liveMem struct{ p *Process }

func (m liveMem) read(addr uint64, buf []byte) error {
	_, err := m.p.readOnPtraceThread(buf, addr)
	return err
}

func (m liveMem) write(addr uint64, data []byte) error {
	local := []unix.Iovec{{Base: &data[0]}}
	local[0].SetLen(len(data))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(data)}}
	n, err := unix.ProcessVMWritev(m.p.pid, local, remote, 0)
	if err == unix.ENOSYS || err == unix.EPERM {
		n, err = m.p.mem.WriteAt(data, int64(addr))
	}
	if err != nil {
		return fmt.Errorf("writing %d bytes at %#x: %w", len(data), addr, err)
	}
	if n != len(data) {
		return fmt.Errorf("writing %d bytes at %#x: only %d written: %w", len(data), addr, n, unix.EFAULT)
	}
	return nil
}
