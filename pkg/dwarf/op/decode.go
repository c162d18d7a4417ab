package op

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// DecodeULEB128 decodes an unsigned LEB128 number at the start of b and
// returns it with the number of bytes it used; n is 0 when b ends before the
// number does. Bits beyond 64 are dropped, as no producer emits them.
func DecodeULEB128(b []byte) (v uint64, n int) {
	var shift uint
	for i, c := range b {
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// DecodeSLEB128 decodes a signed LEB128 number at the start of b and returns
// it with the number of bytes it used; n is 0 when b ends before the number
// does.
func DecodeSLEB128(b []byte) (v int64, n int) {
	var shift uint
	for i, c := range b {
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i + 1
		}
	}
	return 0, 0
}

// instr is one decoded operation: its opcode, where it starts, where the
// next one starts, and its operands (unused ones are zero).
type instr struct {
	op     Opcode
	off    int    // offset of the opcode byte in the expression
	next   int    // offset just past the operands
	u      uint64 // first operand, unsigned view
	s      int64  // first operand, signed view (sign-extended when signed)
	u2     uint64 // second unsigned operand (bit_piece offset, type offset)
	s2     int64  // second signed operand (bregx offset, implicit_pointer)
	block  []byte // implicit_value / entry_value / const_type bytes
	signed bool   // the first operand is signed, for printing
}

// decoder reads operations from one expression.
type decoder struct {
	expr    []byte
	ptrSize int
	order   binary.ByteOrder
}

// decode reads the operation at offset off. It never reads past the
// expression: truncated operands give ErrTruncated.
func (d *decoder) decode(off int) (instr, error) {
	in := instr{op: Opcode(d.expr[off]), off: off}
	inf, ok := info(in.op)
	if !ok {
		return in, &Error{Offset: off, Op: in.op, Err: ErrUnknownOpcode}
	}
	p := off + 1
	rest := func() []byte { return d.expr[p:] }
	fixed := func(n int) ([]byte, bool) {
		if len(d.expr)-p < n {
			return nil, false
		}
		b := d.expr[p : p+n]
		p += n
		return b, true
	}
	uleb := func() (uint64, bool) {
		v, n := DecodeULEB128(rest())
		p += n
		return v, n > 0
	}
	sleb := func() (int64, bool) {
		v, n := DecodeSLEB128(rest())
		p += n
		return v, n > 0
	}
	ok = true
	switch inf.args {
	case argNone:
	case argU1, argS1, argU2, argS2, argU4, argS4, argU8, argS8, argAddr:
		size := fixedSize(inf.args, d.ptrSize)
		var b []byte
		if b, ok = fixed(size); ok {
			in.u = readUint(b, d.order)
			in.s = int64(in.u)
			if inf.args == argS1 || inf.args == argS2 || inf.args == argS4 || inf.args == argS8 {
				in.s = signExtend(in.u, size)
				in.signed = true
			}
		}
	case argULEB:
		in.u, ok = uleb()
		in.s = int64(in.u)
	case argSLEB:
		in.s, ok = sleb()
		in.u = uint64(in.s)
		in.signed = true
	case argULEBSLEB:
		var ok2 bool
		in.u, ok = uleb()
		in.s2, ok2 = sleb()
		ok = ok && ok2
	case argULEBULEB:
		var ok2 bool
		in.u, ok = uleb()
		in.u2, ok2 = uleb()
		ok = ok && ok2
	case argBlock:
		var n uint64
		if n, ok = uleb(); ok {
			if n > uint64(len(d.expr)-p) {
				ok = false
			} else {
				in.u = n
				in.block, _ = fixed(int(n))
			}
		}
	case argU1ULEB:
		var b []byte
		if b, ok = fixed(1); ok {
			in.u = uint64(b[0])
			in.u2, ok = uleb()
		}
	case argULEBU1Block:
		var b []byte
		if in.u2, ok = uleb(); ok {
			if b, ok = fixed(1); ok {
				in.u = uint64(b[0])
				in.block, ok = fixed(int(b[0]))
			}
		}
	case argRefSLEB:
		var b []byte
		if b, ok = fixed(4); ok {
			in.u = readUint(b, d.order)
			in.s2, ok = sleb()
		}
	}
	if !ok {
		return in, &Error{Offset: off, Op: in.op, Err: ErrTruncated}
	}
	in.next = p
	return in, nil
}

// fixedSize is the operand size in bytes of the fixed-width operand kinds.
func fixedSize(k operandKind, ptrSize int) int {
	switch k {
	case argU1, argS1:
		return 1
	case argU2, argS2:
		return 2
	case argU4, argS4:
		return 4
	case argAddr:
		return ptrSize
	}
	return 8
}

// readUint reads a 1, 2, 4 or 8 byte unsigned integer (other sizes up to 8
// are assembled byte by byte).
func readUint(b []byte, order binary.ByteOrder) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(order.Uint16(b))
	case 4:
		return uint64(order.Uint32(b))
	case 8:
		return order.Uint64(b)
	}
	var v uint64
	if order == binary.BigEndian {
		for _, c := range b {
			v = v<<8 | uint64(c)
		}
		return v
	}
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// signExtend widens the low size bytes of v as a two's complement number.
func signExtend(v uint64, size int) int64 {
	if size >= 8 {
		return int64(v)
	}
	shift := uint(64 - 8*size)
	return int64(v<<shift) >> shift
}

// Disassemble renders an expression (8-byte addresses, little endian) in
// the style of readelf, e.g. "DW_OP_fbreg -24; DW_OP_deref". Malformed
// bytes end the listing with a "<error: ...>" entry instead of failing.
func Disassemble(expr []byte) string {
	d := decoder{expr: expr, ptrSize: 8, order: binary.LittleEndian}
	var parts []string
	for off := 0; off < len(expr); {
		in, err := d.decode(off)
		if err != nil {
			parts = append(parts, fmt.Sprintf("<error: %v>", err))
			break
		}
		parts = append(parts, in.String())
		off = in.next
	}
	return strings.Join(parts, "; ")
}

// String formats one decoded operation with its operands.
func (in instr) String() string {
	name := in.op.String()
	inf, _ := info(in.op)
	switch inf.args {
	case argNone:
		return name
	case argAddr:
		return fmt.Sprintf("%s %#x", name, in.u)
	case argULEBSLEB:
		return fmt.Sprintf("%s %d %+d", name, in.u, in.s2)
	case argULEBULEB, argU1ULEB:
		return fmt.Sprintf("%s %d %d", name, in.u, in.u2)
	case argBlock:
		if in.op == DW_OP_entry_value || in.op == DW_OP_GNU_entry_value {
			return fmt.Sprintf("%s(%s)", name, Disassemble(in.block))
		}
		return fmt.Sprintf("%s %d %x", name, in.u, in.block)
	case argULEBU1Block:
		return fmt.Sprintf("%s %#x %d %x", name, in.u2, in.u, in.block)
	case argRefSLEB:
		return fmt.Sprintf("%s %#x %+d", name, in.u, in.s2)
	}
	if in.op == DW_OP_skip || in.op == DW_OP_bra {
		return fmt.Sprintf("%s %+d", name, in.s)
	}
	if in.signed {
		if in.op == DW_OP_fbreg || (in.op >= DW_OP_breg0 && in.op <= DW_OP_breg31) {
			return fmt.Sprintf("%s %+d", name, in.s)
		}
		return fmt.Sprintf("%s %d", name, in.s)
	}
	return fmt.Sprintf("%s %d", name, in.u)
}
