package frame

import (
	"encoding/binary"
	"fmt"
)

// reader is a bounds-checked cursor over section bytes. The first failure is
// sticky: later reads return zero values, so decoding code can read a whole
// header and check r.err once, and a malformed section can never panic.
type reader struct {
	data    []byte
	off     int // position in data
	base    int // offset of data[0] within the section, for error positions
	order   binary.ByteOrder
	section string
	err     error
}

// pos returns the current position as a section offset.
func (r *reader) pos() uint64 { return uint64(r.base + r.off) }

// fail records the first error, located at the section offset at.
func (r *reader) fail(at uint64, format string, args ...any) {
	if r.err == nil {
		r.err = &DecodeError{Section: r.section, Offset: at, Err: fmt.Errorf(format, args...)}
	}
}

// take returns the next n bytes, or nil after recording a truncation error.
func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.data)-r.off {
		r.fail(r.pos(), "%w: %s needs %d bytes, %d left", ErrTruncated, what, n, len(r.data)-r.off)
		return nil
	}
	b := r.data[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

func (r *reader) u8(what string) uint8 {
	b := r.take(1, what)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u16(what string) uint16 {
	b := r.take(2, what)
	if b == nil {
		return 0
	}
	return r.order.Uint16(b)
}

func (r *reader) u32(what string) uint32 {
	b := r.take(4, what)
	if b == nil {
		return 0
	}
	return r.order.Uint32(b)
}

func (r *reader) u64(what string) uint64 {
	b := r.take(8, what)
	if b == nil {
		return 0
	}
	return r.order.Uint64(b)
}

// uintN reads an unsigned integer of size 1, 2, 4 or 8 bytes.
func (r *reader) uintN(size int, what string) uint64 {
	switch size {
	case 1:
		return uint64(r.u8(what))
	case 2:
		return uint64(r.u16(what))
	case 4:
		return uint64(r.u32(what))
	case 8:
		return r.u64(what)
	}
	r.fail(r.pos(), "%w: %s has unsupported size %d", ErrMalformed, what, size)
	return 0
}

// uleb reads an unsigned LEB128 number. Bits beyond 64 are an error rather
// than silently dropped, because a wrapped register number or offset would
// produce a plausible but wrong rule.
func (r *reader) uleb(what string) uint64 {
	start := r.pos()
	var v uint64
	var shift uint
	for {
		b := r.u8(what)
		if r.err != nil {
			return 0
		}
		if shift >= 64 && b&0x7f != 0 || shift == 63 && b&0x7e != 0 {
			r.fail(start, "%w: %s: ULEB128 overflows 64 bits", ErrMalformed, what)
			return 0
		}
		if shift < 64 {
			v |= uint64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 {
			return v
		}
	}
}

// sleb reads a signed LEB128 number.
func (r *reader) sleb(what string) int64 {
	start := r.pos()
	var v int64
	var shift uint
	for {
		b := r.u8(what)
		if r.err != nil {
			return 0
		}
		if shift >= 64 && b&0x7f != 0 && b&0x7f != 0x7f {
			r.fail(start, "%w: %s: SLEB128 overflows 64 bits", ErrMalformed, what)
			return 0
		}
		if shift < 64 {
			v |= int64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 {
			if shift < 64 && b&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

// block reads a ULEB128 length followed by that many bytes (a DWARF
// expression or augmentation data).
func (r *reader) block(what string) []byte {
	n := r.uleb(what + " length")
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.data)-r.off) {
		r.fail(r.pos(), "%w: %s of %d bytes, %d left", ErrTruncated, what, n, len(r.data)-r.off)
		return nil
	}
	return r.take(int(n), what)
}

// cstring reads a NUL-terminated string.
func (r *reader) cstring(what string) string {
	if r.err != nil {
		return ""
	}
	for i := r.off; i < len(r.data); i++ {
		if r.data[i] == 0 {
			s := string(r.data[r.off:i])
			r.off = i + 1
			return s
		}
	}
	r.fail(r.pos(), "%w: %s is not NUL-terminated", ErrTruncated, what)
	return ""
}
