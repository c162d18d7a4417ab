package trace

import (
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
	buf, err := loc.Assemble(regs, size)
	if err != nil {
		return 0, err
	}
	m.slots = append(m.slots, buf)
	return regBase + uint64(len(m.slots)-1)<<12, nil
}
