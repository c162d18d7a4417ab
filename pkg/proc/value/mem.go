package value

import (
	"encoding/binary"
	"fmt"
	"math"
)

// maxCacheSize bounds one prefetch; bigger values are read piecewise.
const maxCacheSize = 1 << 20

// cachedMemory serves reads inside [base, base+len(data)) from one
// prefetched block, so loading a struct or array costs one read of the
// target (one pread on /proc/PID/mem, one copy out of an eBPF buffer)
// instead of one per field.
type cachedMemory struct {
	base   uint64
	data   []byte
	parent MemoryReader
}

func (c *cachedMemory) ReadMemory(buf []byte, addr uint64) (int, error) {
	if addr >= c.base && addr-c.base <= uint64(len(c.data)) && uint64(len(buf)) <= uint64(len(c.data))-(addr-c.base) {
		return copy(buf, c.data[addr-c.base:]), nil
	}
	return c.parent.ReadMemory(buf, addr)
}

// cacheMemory prefetches size bytes at addr. When the block cannot be
// read at once (it may straddle an unmapped page) it returns mem
// unchanged, so that each part reports its own error.
func cacheMemory(mem MemoryReader, addr uint64, size int64) MemoryReader {
	return cacheMemoryIn(nil, mem, addr, size)
}

// cacheMemory is cacheMemory with its layer taken from the Loader's arena.
func (st *loadState) cacheMemory(mem MemoryReader, addr uint64, size int64) MemoryReader {
	return cacheMemoryIn(st.l.arena(), mem, addr, size)
}

// cacheMemoryIn is cacheMemory taking the layer from a (nil for the heap).
func cacheMemoryIn(a *Arena, mem MemoryReader, addr uint64, size int64) MemoryReader {
	if size <= 0 || size > maxCacheSize || addr == 0 || addr+uint64(size) < addr {
		return mem
	}
	if c, ok := mem.(*cachedMemory); ok {
		if addr >= c.base && addr-c.base <= uint64(len(c.data)) && uint64(size) <= uint64(len(c.data))-(addr-c.base) {
			return mem
		}
	}
	if data := viewMemory(mem, addr, size); data != nil {
		c := a.cache()
		*c = cachedMemory{base: addr, data: data, parent: uncached(mem)}
		return c
	}
	buf := make([]byte, size)
	if err := readFull(mem, buf, addr); err != nil {
		return mem
	}
	return &cachedMemory{base: addr, data: buf, parent: uncached(mem)}
}

// MemoryViewer is a MemoryReader whose bytes may be in this process's
// memory already (an eBPF event's captured buffer): the loader then reads
// a block in place instead of copying it out. ViewMemory returns the size
// bytes at addr exactly as ReadMemory would read them, or nil when it does
// not hold them in one piece (ReadMemory is used then). The bytes must not
// change until the Load that asked for them returns.
type MemoryViewer interface {
	MemoryReader
	ViewMemory(addr uint64, size int) []byte
}

// viewMemory is MemoryViewer.ViewMemory of mem's bottom layer, or nil.
func viewMemory(mem MemoryReader, addr uint64, size int64) []byte {
	if vw, ok := uncached(mem).(MemoryViewer); ok && size > 0 && size <= maxCacheSize {
		if data := vw.ViewMemory(addr, int(size)); len(data) == int(size) {
			return data
		}
	}
	return nil
}

// uncached strips prefetch layers: memory reached through a pointer is
// elsewhere, so the current block cannot serve it.
func uncached(mem MemoryReader) MemoryReader {
	for {
		c, ok := mem.(*cachedMemory)
		if !ok {
			return mem
		}
		mem = c.parent
	}
}

func readFull(mem MemoryReader, buf []byte, addr uint64) error {
	n, err := mem.ReadMemory(buf, addr)
	if err != nil {
		return fmt.Errorf("reading %d bytes at %#x: %w", len(buf), addr, err)
	}
	if n != len(buf) {
		return fmt.Errorf("reading %d bytes at %#x: short read (%d bytes)", len(buf), addr, n)
	}
	return nil
}

func readUint(mem MemoryReader, addr uint64, size int64) (uint64, error) {
	if size <= 0 || size > 8 {
		return 0, fmt.Errorf("invalid integer size %d", size)
	}
	// Bytes held in memory already are decoded in place: the buffer
	// handed to ReadMemory escapes, an allocation per number loaded.
	var buf []byte
	if c, ok := mem.(*cachedMemory); ok && addr >= c.base && addr-c.base <= uint64(len(c.data)) && uint64(size) <= uint64(len(c.data))-(addr-c.base) {
		buf = c.data[addr-c.base:]
	} else if data := viewMemory(mem, addr, size); data != nil {
		buf = data
	} else {
		buf = make([]byte, 8)
		if err := readFull(mem, buf[:size], addr); err != nil {
			return 0, err
		}
	}
	switch size {
	case 1, 2, 4, 8:
		return littleEndian(buf, int(size)), nil
	}
	return 0, fmt.Errorf("invalid integer size %d", size)
}

// littleEndian is the unsigned integer of size 1, 2, 4 or 8 at the start
// of b.
func littleEndian(b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

func readInt(mem MemoryReader, addr uint64, size int64) (int64, error) {
	u, err := readUint(mem, addr, size)
	if err != nil {
		return 0, err
	}
	return signExtend(u, int(size)), nil
}

// signExtend is the signed integer whose size low bytes u holds.
func signExtend(u uint64, size int) int64 {
	if size <= 0 || size >= 8 {
		return int64(u)
	}
	shift := uint(64 - 8*size)
	return int64(u<<shift) >> shift
}

func readFloat(mem MemoryReader, addr uint64, size int64) (float64, error) {
	u, err := readUint(mem, addr, size)
	if err != nil {
		return 0, err
	}
	switch size {
	case 4:
		return float64(math.Float32frombits(uint32(u))), nil
	case 8:
		return math.Float64frombits(u), nil
	}
	return 0, fmt.Errorf("invalid float size %d", size)
}
