package frame

import (
	"encoding/binary"
)

// sectionBuilder assembles synthetic CFI sections for tests, covering
// encodings that real compilers rarely emit.
type sectionBuilder struct {
	b       []byte
	eh      bool // .eh_frame layout: CIE id 0, relative CIE pointers
	dwarf64 bool // 64-bit DWARF lengths and ids (.debug_frame only)
}

func uleb(v uint64) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		out = append(out, c)
		if v == 0 {
			return out
		}
	}
}

func sleb(v int64) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		done := v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0
		if !done {
			c |= 0x80
		}
		out = append(out, c)
		if done {
			return out
		}
	}
}

func u16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// entry appends an entry whose id field is id(idPos) and whose body is
// body(bodyPos), and returns the entry's offset. Both get positions so that
// relative CIE pointers and PC-relative values can be computed.
func (s *sectionBuilder) entry(id func(idPos uint64) uint64, body func(bodyPos uint64) []byte) uint64 {
	start := uint64(len(s.b))
	idSize, lenSize := 4, 4
	if s.dwarf64 {
		idSize, lenSize = 8, 12
	}
	idPos := start + uint64(lenSize)
	content := body(idPos + uint64(idSize))
	length := uint64(idSize + len(content))
	if s.dwarf64 {
		s.b = append(s.b, u32(0xffffffff)...)
		s.b = append(s.b, u64(length)...)
		s.b = append(s.b, u64(id(idPos))...)
	} else {
		s.b = append(s.b, u32(uint32(length))...)
		s.b = append(s.b, u32(uint32(id(idPos)))...)
	}
	s.b = append(s.b, content...)
	return start
}

// cie appends a CIE: version, the header fields after it (already encoded)
// and the initial instructions.
func (s *sectionBuilder) cie(version byte, header []byte, insns []byte) uint64 {
	id := uint64(0)
	if !s.eh {
		id = 0xffffffff
		if s.dwarf64 {
			id = ^uint64(0)
		}
	}
	return s.entry(func(uint64) uint64 { return id }, func(uint64) []byte { return cat([]byte{version}, header, insns) })
}

// fde appends an FDE pointing at the CIE at cieOff; body builds everything
// after the CIE pointer given the section offset where it starts.
func (s *sectionBuilder) fde(cieOff uint64, body func(bodyPos uint64) []byte) uint64 {
	return s.entry(func(idPos uint64) uint64 {
		if s.eh {
			return idPos - cieOff
		}
		return cieOff
	}, body)
}

// plainFDE appends a .debug_frame FDE with 8-byte addresses.
func (s *sectionBuilder) plainFDE(cieOff, begin, size uint64, insns []byte) uint64 {
	return s.fde(cieOff, func(uint64) []byte { return cat(u64(begin), u64(size), insns) })
}
