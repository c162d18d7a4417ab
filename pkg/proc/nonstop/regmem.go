package nonstop

import (
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// regMemory overlays register-assembled values on the process memory, so
// the shared loader reads them like any value in memory.
type regMemory struct {
	value.Overlay
	// fp reads the hit thread's XMM registers; nil when the backend cannot.
	// It is called at most once, and only for a value with a float piece.
	fp     func() (arch.FPRegisters, error)
	fpRegs *arch.FPRegisters
	fpErr  error
}

func newRegMemory(mem value.MemoryReader, fp func() (arch.FPRegisters, error)) *regMemory {
	return &regMemory{Overlay: value.Overlay{Parent: mem}, fp: fp}
}

// place returns the address the loader should read a value of size bytes
// at loc from: the overlay filled from its pieces (registers, and stack
// bytes above cfa), or the stack above cfa.
func (m *regMemory) place(loc probe.Location, size int64, regs *arch.Registers, cfa uint64) (uint64, error) {
	if !loc.InRegs {
		return cfa + uint64(loc.StackOff), nil
	}
	var fp *arch.FPRegisters
	if loc.HasFloat() {
		var err error
		if fp, err = m.xmm(); err != nil {
			return 0, err
		}
	}
	buf, err := loc.AssembleFrom(regs, fp, m.Parent, cfa, size)
	if err != nil {
		return 0, err
	}
	return m.Alloc(buf)
}

// xmm reads the X registers once per hit.
func (m *regMemory) xmm() (*arch.FPRegisters, error) {
	if m.fp == nil {
		return nil, probe.ErrFloatRegister
	}
	if m.fpRegs == nil && m.fpErr == nil {
		fp, err := m.fp()
		if err != nil {
			m.fpErr = fmt.Errorf("reading X registers: %w", err)
		} else {
			m.fpRegs = &fp
		}
	}
	return m.fpRegs, m.fpErr
}
