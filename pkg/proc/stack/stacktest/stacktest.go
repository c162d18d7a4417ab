// Package stacktest drives fixture programs to a breakpoint for the tests of
// the stack and goroutine packages: it launches a fixture under ptrace,
// plants an int3 at the first statement of a function and stops there.
// It is deliberately minimal and only meant to be imported by tests.
package stacktest

import (
	"fmt"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
)

// Session is a fixture process stopped under the debugger.
type Session struct {
	t    testing.TB
	Proc *native.Process
	Bin  *bininfo.BinaryInfo
	bps  map[uint64]byte // breakpoint address -> original byte
}

// Launch starts exe stopped at its first instruction, with its load bias
// applied to Bin. The process is killed when the test ends.
func Launch(t testing.TB, exe string) *Session {
	t.Helper()
	bi, err := bininfo.Open(exe)
	if err != nil {
		t.Fatalf("opening %s: %v", exe, err)
	}
	t.Cleanup(func() { bi.Close() })
	p, err := native.Launch(native.LaunchConfig{Path: exe})
	if err != nil {
		t.Fatalf("launching %s: %v", exe, err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	if bi.IsPIE() {
		entry, err := p.AuxvEntry()
		if err != nil {
			t.Fatalf("reading AT_ENTRY: %v", err)
		}
		bi.SetLoadBias(entry - bi.EntryPoint())
	}
	return &Session{t: t, Proc: p, Bin: bi, bps: map[uint64]byte{}}
}

// BreakAt plants a breakpoint at the first statement of function fn and
// returns its address.
func (s *Session) BreakAt(fn string) uint64 {
	s.t.Helper()
	f, err := s.Bin.LookupFunc(fn)
	if err != nil {
		s.t.Fatalf("looking up %s: %v", fn, err)
	}
	addr := s.Bin.FirstPCAfterPrologue(f)
	if addr == 0 {
		s.t.Fatalf("no breakpoint address for %s", fn)
	}
	return s.BreakAtPC(addr)
}

// BreakAtPC plants a breakpoint at addr and returns addr.
func (s *Session) BreakAtPC(addr uint64) uint64 {
	s.t.Helper()
	orig := make([]byte, 1)
	if _, err := s.Proc.ReadMemory(orig, addr); err != nil {
		s.t.Fatalf("reading code at %#x: %v", addr, err)
	}
	if _, err := s.Proc.WriteMemory(addr, arch.BreakpointInstr); err != nil {
		s.t.Fatalf("writing breakpoint at %#x: %v", addr, err)
	}
	s.bps[addr] = orig[0]
	return addr
}

// Hit is one thread stopped at a breakpoint, its PC rewound onto it.
type Hit struct {
	Thread *native.Thread
	Regs   arch.Registers
	Addr   uint64
}

// Continue resumes the process until at least one thread stops at a
// breakpoint. Every thread stopped on one has its PC rewound to the
// breakpoint address; the first is returned, the others in rest.
func (s *Session) Continue() (first Hit, rest []Hit) {
	s.t.Helper()
	for _, h := range s.pending() {
		s.stepOver(h)
	}
	ev, err := s.Proc.Continue()
	if err != nil {
		s.t.Fatalf("continue: %v", err)
	}
	if ev.Kind != proc.StopKindTrap {
		s.t.Fatalf("continue: stopped with %v (exit code %d, signal %d), not at a breakpoint", ev.Kind, ev.ExitCode, ev.Signal)
	}
	var hits []Hit
	for _, th := range ev.Trapped {
		regs, err := th.Registers()
		if err != nil {
			s.t.Fatalf("registers of thread %d: %v", th.ID(), err)
		}
		if _, ok := s.bps[regs.Rip-1]; !ok {
			continue
		}
		regs.Rip--
		if err := th.SetPC(regs.Rip); err != nil {
			s.t.Fatalf("rewinding PC of thread %d: %v", th.ID(), err)
		}
		hits = append(hits, Hit{Thread: th, Regs: regs, Addr: regs.Rip})
	}
	if len(hits) == 0 {
		s.t.Fatalf("continue: trap without a breakpoint hit")
	}
	return hits[0], hits[1:]
}

// ContinueN continues until the n-th breakpoint hit (counting every thread's
// hit) and returns it.
func (s *Session) ContinueN(n int) Hit {
	s.t.Helper()
	count := 0
	for {
		first, rest := s.Continue()
		for _, h := range append([]Hit{first}, rest...) {
			count++
			if count == n {
				return h
			}
		}
	}
}

// pending lists threads sitting on a breakpoint, which must step over it
// before the process may continue.
func (s *Session) pending() []Hit {
	var out []Hit
	for _, th := range s.Proc.Threads() {
		regs, err := th.Registers()
		if err != nil {
			continue
		}
		if _, ok := s.bps[regs.Rip]; ok {
			out = append(out, Hit{Thread: th, Regs: regs, Addr: regs.Rip})
		}
	}
	return out
}

// stepOver executes the original instruction under a breakpoint.
func (s *Session) stepOver(h Hit) {
	s.t.Helper()
	orig := s.bps[h.Addr]
	if _, err := s.Proc.WriteMemory(h.Addr, []byte{orig}); err != nil {
		s.t.Fatalf("restoring code at %#x: %v", h.Addr, err)
	}
	if err := h.Thread.StepInstruction(); err != nil {
		s.t.Fatalf("stepping thread %d: %v", h.Thread.ID(), err)
	}
	if _, err := s.Proc.WriteMemory(h.Addr, arch.BreakpointInstr); err != nil {
		s.t.Fatalf("re-inserting breakpoint at %#x: %v", h.Addr, err)
	}
}

// Registers returns the registers of thread tid.
func (s *Session) Registers(tid int) (arch.Registers, error) {
	th, ok := s.Proc.Thread(tid)
	if !ok {
		return arch.Registers{}, fmt.Errorf("no thread %d", tid)
	}
	return th.Registers()
}
