package value

import (
	"errors"
	"fmt"
)

// SyntheticBase is where bytes that live nowhere in the target's memory
// (register contents, DWARF pieces, results of expressions) are placed so
// that the loader reads them like memory. It is Delve's fake address base:
// a non-canonical amd64 address, which no pointer of a user process can
// hold, and the address Delve's users see for such values.
const SyntheticBase uint64 = 0xbeef_0000_0000_0000

// IsSynthetic reports whether addr is an overlay address rather than one
// of the target's.
func IsSynthetic(addr uint64) bool { return addr >= SyntheticBase }

// maxOverlayBytes bounds what one overlay may hold, so that an expression
// like a long chain of string concatenations cannot exhaust the
// debugger's memory.
const maxOverlayBytes = 64 << 20

// ErrOverlayFull is returned by Alloc once maxOverlayBytes are placed.
var ErrOverlayFull = errors.New("expression produces too much data")

// Overlay serves allocated chunks from SyntheticBase up and forwards every
// other read to Parent. The zero value (no Parent) reads only its chunks.
type Overlay struct {
	Parent MemoryReader
	chunks []chunk
	next   uint64 // offset of the next chunk from SyntheticBase
}

type chunk struct {
	addr uint64
	data []byte
}

// Reset drops every chunk; their addresses are reused by later Allocs.
func (o *Overlay) Reset() {
	o.chunks = o.chunks[:0]
	o.next = 0
}

// Alloc places data (not copied) at a fresh synthetic address, 16-byte
// aligned, with a gap so that a read past one chunk never lands in the
// next.
func (o *Overlay) Alloc(data []byte) (uint64, error) {
	if o.next+uint64(len(data)) > maxOverlayBytes {
		return 0, ErrOverlayFull
	}
	addr := SyntheticBase + o.next
	o.chunks = append(o.chunks, chunk{addr: addr, data: data})
	o.next += (uint64(len(data)) + 16 + 15) &^ 15
	return addr, nil
}

// View is the size bytes of a chunk at the synthetic address addr, in
// place, or nil: MemoryViewer.ViewMemory for a reader that holds an
// overlay (bytes held in registers are read once per value loaded).
func (o *Overlay) View(addr uint64, size int) []byte {
	for i := len(o.chunks) - 1; i >= 0; i-- {
		c := &o.chunks[i]
		if addr >= c.addr && addr-c.addr <= uint64(len(c.data)) && uint64(size) <= uint64(len(c.data))-(addr-c.addr) {
			off := addr - c.addr
			return c.data[off : off+uint64(size) : off+uint64(size)]
		}
	}
	return nil
}

// ReadMemory implements MemoryReader.
func (o *Overlay) ReadMemory(buf []byte, addr uint64) (int, error) {
	if !IsSynthetic(addr) {
		if o.Parent == nil {
			return 0, fmt.Errorf("no target memory to read %#x", addr)
		}
		return o.Parent.ReadMemory(buf, addr)
	}
	for i := len(o.chunks) - 1; i >= 0; i-- {
		c := &o.chunks[i]
		if addr >= c.addr && addr-c.addr <= uint64(len(c.data)) && uint64(len(buf)) <= uint64(len(c.data))-(addr-c.addr) {
			return copy(buf, c.data[addr-c.addr:]), nil
		}
	}
	return 0, fmt.Errorf("%d bytes at %#x are outside the values held in registers or computed", len(buf), addr)
}
