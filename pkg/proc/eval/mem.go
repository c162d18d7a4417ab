package eval

import (
	"errors"
	"fmt"
)

// Memory reads the target's memory.
type Memory interface {
	ReadMemory(buf []byte, addr uint64) (int, error)
}

// MemoryWriter is implemented by targets whose memory can be changed; only
// setting variables needs it.
type MemoryWriter interface {
	WriteMemory(addr uint64, data []byte) (int, error)
}

// SyntheticBase is where values that live nowhere in the target (register
// contents, pieces, results of arithmetic and conversions) are placed so
// that the value loader can read them like memory. Addresses from here up
// are in the kernel half of the amd64 address space, which a user process
// can never map, so they cannot be confused with target addresses.
const SyntheticBase uint64 = 0xffff_f000_0000_0000

// maxSyntheticBytes bounds what one evaluation may materialize, so that an
// expression like a long chain of string concatenations cannot exhaust the
// debugger's memory.
const maxSyntheticBytes = 64 << 20

var errSyntheticFull = errors.New("expression produces too much data")

// overlay serves synthetic chunks from SyntheticBase up and forwards every
// other read to the target.
type overlay struct {
	parent Memory
	chunks []chunk
	next   uint64
}

type chunk struct {
	addr uint64
	data []byte
}

func newOverlay(parent Memory) *overlay {
	return &overlay{parent: parent, next: SyntheticBase}
}

// reset drops the chunks of the previous evaluation.
func (o *overlay) reset() {
	o.chunks = o.chunks[:0]
	o.next = SyntheticBase
}

// alloc places data at a fresh synthetic address, 16-byte aligned, with a
// gap so that reading past one chunk never lands in the next.
func (o *overlay) alloc(data []byte) (uint64, error) {
	if o.next-SyntheticBase+uint64(len(data)) > maxSyntheticBytes {
		return 0, errSyntheticFull
	}
	addr := o.next
	o.chunks = append(o.chunks, chunk{addr: addr, data: data})
	o.next += (uint64(len(data)) + 16 + 15) &^ 15
	return addr, nil
}

// ReadMemory implements Memory.
func (o *overlay) ReadMemory(buf []byte, addr uint64) (int, error) {
	if addr < SyntheticBase {
		if o.parent == nil {
			return 0, fmt.Errorf("no target memory to read %#x", addr)
		}
		return o.parent.ReadMemory(buf, addr)
	}
	for i := len(o.chunks) - 1; i >= 0; i-- {
		c := &o.chunks[i]
		if addr >= c.addr && addr-c.addr <= uint64(len(c.data)) && uint64(len(buf)) <= uint64(len(c.data))-(addr-c.addr) {
			return copy(buf, c.data[addr-c.addr:]), nil
		}
	}
	return 0, fmt.Errorf("invalid address %#x", addr)
}

// isTarget reports whether addr is a real, non-nil target address.
func isTarget(addr uint64) bool { return addr != 0 && addr < SyntheticBase }
