package core

import (
	"fmt"
	"io"
)

// region is one range of the dead process's address space and where its
// bytes are kept: a PT_LOAD segment of the core or a file-backed mapping
// of the executable.
type region struct {
	start, end uint64 // [start, end)
	src        io.ReaderAt
	srcOff     int64 // offset in src of start
}

// memory is the address space rebuilt from regions in priority order: the
// first region holding an address supplies its byte. The core's segments
// come first, so that data written after the mapping was made (relocated
// pointers, the heap, every stack) wins over the file's original bytes.
type memory struct {
	regions []region
}

func (m *memory) add(r region) {
	if r.end > r.start {
		m.regions = append(m.regions, r)
	}
}

// ReadMemory fills buf from addr, spanning regions as needed. Memory that
// no region holds (not dumped, or never mapped) is an error after the
// bytes that could be read.
func (m *memory) ReadMemory(buf []byte, addr uint64) (int, error) {
	n := 0
	for n < len(buf) {
		cur := addr + uint64(n)
		r := m.find(cur)
		if r == nil {
			return n, fmt.Errorf("reading %d bytes at %#x: address %#x is not in the core file", len(buf), addr, cur)
		}
		limit := r.end
		// A region of higher priority may start inside this one.
		for i := range m.regions {
			if &m.regions[i] == r {
				break
			}
			if s := m.regions[i].start; s > cur && s < limit {
				limit = s
			}
		}
		chunk := buf[n:]
		if uint64(len(chunk)) > limit-cur {
			chunk = chunk[:limit-cur]
		}
		k, err := r.src.ReadAt(chunk, r.srcOff+int64(cur-r.start))
		n += k
		if k < len(chunk) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, fmt.Errorf("reading %d bytes at %#x from the core file: %w", len(buf), addr, err)
		}
	}
	return n, nil
}

// find returns the highest-priority region holding addr.
func (m *memory) find(addr uint64) *region {
	for i := range m.regions {
		if r := &m.regions[i]; addr >= r.start && addr < r.end {
			return r
		}
	}
	return nil
}
