package eval

import "github.com/tinydbg/tinydbg/pkg/proc/value"

// Memory reads the target's memory.
type Memory interface {
	ReadMemory(buf []byte, addr uint64) (int, error)
}

// MemoryWriter is implemented by targets whose memory can be changed; only
// setting variables needs it.
type MemoryWriter interface {
	WriteMemory(addr uint64, data []byte) (int, error)
}

// isTarget reports whether addr is a real, non-nil target address.
func isTarget(addr uint64) bool { return addr != 0 && !value.IsSynthetic(addr) }
