// Package dwarfbuf reads the fields DWARF sections are made of: fixed-size
// integers, LEB128 numbers, length-prefixed blocks and NUL-terminated
// strings. It is the one byte reader behind the CFI, location-list,
// expression and attribute decoders, so that they agree on LEB128 and report
// bad data the same way.
package dwarfbuf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrTruncated is wrapped when the data ends inside a field.
var ErrTruncated = errors.New("truncated DWARF data")

// ErrMalformed is wrapped when a field cannot be represented: a LEB128
// number wider than 64 bits or an integer of unsupported size.
var ErrMalformed = errors.New("malformed DWARF data")

// DecodeError locates bad data: the section (or other named data) it is in
// and the offset, within it, of the field that could not be read.
type DecodeError struct {
	Name   string // e.g. ".debug_frame"
	Offset uint64 // byte offset within the named data
	Err    error  // wraps ErrTruncated, ErrMalformed or a decoder's own error
}

// Error formats the error with its position.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s at offset %#x: %v", e.Name, e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// ULEB128 decodes an unsigned LEB128 number at the start of b and returns it
// with the number of bytes it used. It fails with ErrTruncated when b ends
// before the number does and with ErrMalformed when set bits fall beyond 64:
// a wrapped register number or offset would be plausible but wrong.
func ULEB128(b []byte) (v uint64, n int, err error) {
	var shift uint
	for i, c := range b {
		if shift >= 64 && c&0x7f != 0 || shift == 63 && c&0x7e != 0 {
			return 0, 0, fmt.Errorf("%w: ULEB128 overflows 64 bits", ErrMalformed)
		}
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: ULEB128 not terminated", ErrTruncated)
}

// SLEB128 decodes a signed LEB128 number at the start of b, with the errors
// of ULEB128. Bytes beyond 64 bits may only repeat the sign.
func SLEB128(b []byte) (v int64, n int, err error) {
	var shift uint
	for i, c := range b {
		if shift >= 64 && c&0x7f != 0 && c&0x7f != 0x7f {
			return 0, 0, fmt.Errorf("%w: SLEB128 overflows 64 bits", ErrMalformed)
		}
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: SLEB128 not terminated", ErrTruncated)
}

// Buf is a bounds-checked cursor over a slice of named data. The first
// failure is sticky: later reads return zero values, so a decoder can read
// a whole header and check Err once, and bad data can never panic.
//
// Every read takes a short description of the field ("CIE version"), which
// the DecodeError quotes.
type Buf struct {
	name  string
	data  []byte
	off   int    // position in data
	base  uint64 // offset of data[0] within the named data
	order binary.ByteOrder
	err   error
}

// New returns a Buf over data, which starts at offset base of the section
// called name; errors report offsets relative to that section.
func New(name string, base uint64, data []byte, order binary.ByteOrder) Buf {
	return Buf{name: name, data: data, base: base, order: order}
}

// Name returns the name errors are reported against.
func (b *Buf) Name() string { return b.name }

// Off returns the position of the next byte as an offset within the named
// data.
func (b *Buf) Off() uint64 { return b.base + uint64(b.off) }

// Len returns how many bytes are left.
func (b *Buf) Len() int { return len(b.data) - b.off }

// Rest returns the bytes left without consuming them.
func (b *Buf) Rest() []byte { return b.data[b.off:len(b.data):len(b.data)] }

// Err returns the first failure, a *DecodeError, or nil.
func (b *Buf) Err() error { return b.err }

// Fail records err at offset at of the named data unless a failure is
// already recorded; decoders use it for their own semantic errors so that
// those stick like the reader's.
func (b *Buf) Fail(at uint64, err error) {
	if b.err == nil {
		b.err = &DecodeError{Name: b.name, Offset: at, Err: err}
	}
}

// Bytes returns the next n bytes (aliasing the data), or nil after
// recording ErrTruncated at their start.
func (b *Buf) Bytes(n uint64, what string) []byte {
	if b.err != nil {
		return nil
	}
	if n > uint64(b.Len()) {
		b.Fail(b.Off(), fmt.Errorf("%w: %s needs %d bytes, %d left", ErrTruncated, what, n, b.Len()))
		return nil
	}
	out := b.data[b.off : b.off+int(n) : b.off+int(n)]
	b.off += int(n)
	return out
}

// Skip advances past n bytes.
func (b *Buf) Skip(n uint64, what string) { b.Bytes(n, what) }

// Uint8 reads one byte.
func (b *Buf) Uint8(what string) uint8 {
	p := b.Bytes(1, what)
	if p == nil {
		return 0
	}
	return p[0]
}

// Uint16 reads a 2-byte integer.
func (b *Buf) Uint16(what string) uint16 {
	p := b.Bytes(2, what)
	if p == nil {
		return 0
	}
	return b.order.Uint16(p)
}

// Uint32 reads a 4-byte integer.
func (b *Buf) Uint32(what string) uint32 {
	p := b.Bytes(4, what)
	if p == nil {
		return 0
	}
	return b.order.Uint32(p)
}

// Uint64 reads an 8-byte integer.
func (b *Buf) Uint64(what string) uint64 {
	p := b.Bytes(8, what)
	if p == nil {
		return 0
	}
	return b.order.Uint64(p)
}

// UintN reads an unsigned integer of 1, 2, 4 or 8 bytes; other sizes are
// ErrMalformed.
func (b *Buf) UintN(size int, what string) uint64 {
	switch size {
	case 1, 2, 4, 8:
		return Uint(b.Bytes(uint64(size), what), b.order)
	}
	b.Fail(b.Off(), fmt.Errorf("%w: %s has unsupported size %d", ErrMalformed, what, size))
	return 0
}

// Uint assembles the unsigned integer held in the bytes of p, of any
// length up to 8 (DW_OP_deref_size reads odd sizes); nil gives 0.
func Uint(p []byte, order binary.ByteOrder) uint64 {
	switch len(p) {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(order.Uint16(p))
	case 4:
		return uint64(order.Uint32(p))
	case 8:
		return order.Uint64(p)
	}
	var v uint64
	if order == binary.BigEndian {
		for _, c := range p {
			v = v<<8 | uint64(c)
		}
		return v
	}
	for i := len(p) - 1; i >= 0; i-- {
		v = v<<8 | uint64(p[i])
	}
	return v
}

// ULEB128 reads an unsigned LEB128 number; a failure is recorded at the
// number's first byte.
func (b *Buf) ULEB128(what string) uint64 { return readLEB(b, what, ULEB128) }

// SLEB128 reads a signed LEB128 number; a failure is recorded at the
// number's first byte.
func (b *Buf) SLEB128(what string) int64 { return readLEB(b, what, SLEB128) }

func readLEB[T uint64 | int64](b *Buf, what string, decode func([]byte) (T, int, error)) T {
	if b.err != nil {
		return 0
	}
	v, n, err := decode(b.data[b.off:])
	if err != nil {
		b.Fail(b.Off(), fmt.Errorf("%s: %w", what, err))
		return 0
	}
	b.off += n
	return v
}

// Block reads a ULEB128 length followed by that many bytes (a DWARF
// expression, augmentation data).
func (b *Buf) Block(what string) []byte {
	n := b.ULEB128(what + " length")
	return b.Bytes(n, what)
}

// CString reads a NUL-terminated string.
func (b *Buf) CString(what string) string {
	if b.err != nil {
		return ""
	}
	for i := b.off; i < len(b.data); i++ {
		if b.data[i] == 0 {
			s := string(b.data[b.off:i])
			b.off = i + 1
			return s
		}
	}
	b.Fail(b.Off(), fmt.Errorf("%w: %s is not NUL-terminated", ErrTruncated, what))
	return ""
}

// AppendSLEB128 appends v in signed LEB128, for location expressions
// tinydbg writes itself.
func AppendSLEB128(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
