package op

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
)

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
// expression: truncated operands give ErrTruncated, LEB128 operands wider
// than 64 bits ErrMalformed.
func (d *decoder) decode(off int) (instr, error) {
	in := instr{op: Opcode(d.expr[off]), off: off}
	inf, ok := info(in.op)
	if !ok {
		return in, &Error{Offset: off, Op: in.op, Err: ErrUnknownOpcode}
	}
	b := dwarfbuf.New("expression", uint64(off+1), d.expr[off+1:], d.order)
	switch inf.args {
	case argNone:
	case argU1, argS1, argU2, argS2, argU4, argS4, argU8, argS8, argAddr:
		size := fixedSize(inf.args, d.ptrSize)
		in.u = b.UintN(size, "operand")
		in.s = int64(in.u)
		if inf.args == argS1 || inf.args == argS2 || inf.args == argS4 || inf.args == argS8 {
			in.s = signExtend(in.u, size)
			in.signed = true
		}
	case argULEB:
		in.u = b.ULEB128("operand")
		in.s = int64(in.u)
	case argSLEB:
		in.s = b.SLEB128("operand")
		in.u = uint64(in.s)
		in.signed = true
	case argULEBSLEB:
		in.u = b.ULEB128("first operand")
		in.s2 = b.SLEB128("second operand")
	case argULEBULEB:
		in.u = b.ULEB128("first operand")
		in.u2 = b.ULEB128("second operand")
	case argBlock:
		in.block = b.Block("block")
		in.u = uint64(len(in.block))
	case argU1ULEB:
		in.u = uint64(b.Uint8("first operand"))
		in.u2 = b.ULEB128("second operand")
	case argULEBU1Block:
		in.u2 = b.ULEB128("type offset")
		in.u = uint64(b.Uint8("block size"))
		in.block = b.Bytes(in.u, "block")
	case argRefSLEB:
		in.u = uint64(b.Uint32("reference"))
		in.s2 = b.SLEB128("offset")
	}
	if err := b.Err(); err != nil {
		// Report the operation, which a reader of the expression can find
		// in a disassembly, rather than the field inside it.
		kind := ErrTruncated
		if errors.Is(err, dwarfbuf.ErrMalformed) {
			kind = ErrMalformed
		}
		return in, &Error{Offset: off, Op: in.op, Err: kind}
	}
	in.next = int(b.Off())
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
