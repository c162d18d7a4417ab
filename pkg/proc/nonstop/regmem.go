package nonstop

import (
	"encoding/binary"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// regBase is where values assembled from registers are shown to the
// loader: a non-canonical address that no pointer of the program can hold.
const regBase = 0xfff0_0000_0000_0000

// regMemory overlays register-assembled values on the process memory, so
// the shared loader reads them like any value in memory.
type regMemory struct {
	slots [][]byte // slot i lives at regBase + i<<12
	mem   value.MemoryReader
	// fp reads the hit thread's XMM registers; nil when the backend cannot.
	// It is called at most once, and only for a value with a float piece.
	fp     func() (arch.FPRegisters, error)
	fpRegs *arch.FPRegisters
	fpErr  error
}

// ReadMemory implements value.MemoryReader.
func (m *regMemory) ReadMemory(buf []byte, addr uint64) (int, error) {
	if addr >= regBase {
		i, off := (addr-regBase)>>12, (addr-regBase)&0xfff
		if i < uint64(len(m.slots)) && off+uint64(len(buf)) <= uint64(len(m.slots[i])) {
			return copy(buf, m.slots[i][off:]), nil
		}
		return 0, fmt.Errorf("%d bytes at %#x are outside the register values", len(buf), addr)
	}
	return m.mem.ReadMemory(buf, addr)
}

// place returns the address the loader should read a value of size bytes
// at loc from: a slot filled from the registers, or the stack above cfa.
func (m *regMemory) place(loc probe.Location, size int64, regs *arch.Registers, cfa uint64) (uint64, error) {
	if !loc.InRegs {
		return cfa + uint64(loc.StackOff), nil
	}
	buf, err := m.assemble(loc, size, regs)
	if err != nil {
		return 0, err
	}
	m.slots = append(m.slots, buf)
	return regBase + uint64(len(m.slots)-1)<<12, nil
}

// assemble returns the bytes of a register-held value; integer pieces come
// from regs, float pieces from the low bytes of the X registers.
func (m *regMemory) assemble(loc probe.Location, size int64, regs *arch.Registers) ([]byte, error) {
	if !loc.HasFloat() {
		return loc.Assemble(regs, size)
	}
	fp, err := m.xmm()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	for _, p := range loc.Pieces {
		var word [16]byte
		src := word[:8]
		if p.Float {
			if p.Reg < 0 || p.Reg >= arch.NumXmm {
				return nil, fmt.Errorf("no register X%d", p.Reg)
			}
			src = fp.Xmm[p.Reg][:]
		} else {
			binary.LittleEndian.PutUint64(word[:], probe.IntArgReg(regs, p.Reg))
		}
		if p.Off < 0 || p.Size < 0 || p.Size > int64(len(src)) || p.Off+p.Size > size {
			return nil, fmt.Errorf("register piece [%d, %d) outside a %d-byte value", p.Off, p.Off+p.Size, size)
		}
		copy(buf[p.Off:p.Off+p.Size], src[:p.Size])
	}
	return buf, nil
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
