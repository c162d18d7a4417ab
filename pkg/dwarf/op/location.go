package op

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MemoryReader reads target memory; it is the only access to the target an
// expression needs (for DW_OP_deref and for Location.Bytes).
type MemoryReader interface {
	// ReadMemory fills buf from address addr and returns how many bytes it
	// read.
	ReadMemory(buf []byte, addr uint64) (int, error)
}

// PieceKind says where the bytes of one piece of an object are.
type PieceKind uint8

const (
	// MemoryPiece bytes are in target memory at Piece.Addr.
	MemoryPiece PieceKind = iota
	// RegisterPiece bytes are in DWARF register Piece.Reg, starting Offset
	// bytes into it (little-endian view of the register).
	RegisterPiece
	// ValuePiece bytes are the computed value Piece.Value (DW_OP_stack_value),
	// starting Offset bytes into it.
	ValuePiece
	// ImplicitPiece bytes are literally Piece.Bytes (DW_OP_implicit_value).
	ImplicitPiece
	// UndefinedPiece bytes were optimized away: the compiler knows the piece
	// exists but not where it is at this PC.
	UndefinedPiece
)

// String names the kind, for test failures and debugging output.
func (k PieceKind) String() string {
	switch k {
	case MemoryPiece:
		return "memory"
	case RegisterPiece:
		return "register"
	case ValuePiece:
		return "value"
	case ImplicitPiece:
		return "implicit"
	case UndefinedPiece:
		return "undefined"
	}
	return fmt.Sprintf("PieceKind(%d)", uint8(k))
}

// Piece is one contiguous part of an object. Only the field matching Kind is
// meaningful.
type Piece struct {
	Kind PieceKind
	// Size is the piece length in bytes; 0 means "the whole object", used
	// when the expression had no DW_OP_piece and the size comes from the
	// variable's type.
	Size int
	// Offset is the byte offset inside the register or value at which the
	// piece starts (from a byte-aligned DW_OP_bit_piece); memory pieces fold
	// it into Addr.
	Offset int
	Addr   uint64 // MemoryPiece: address of the first byte
	Reg    uint64 // RegisterPiece: DWARF register number
	Value  uint64 // ValuePiece: the value
	Bytes  []byte // ImplicitPiece: the bytes
}

// Location is the result of an expression.
//
// If IsAddr is true the whole object is in memory at Addr (the common case
// for non-optimized Go code: DW_OP_fbreg / DW_OP_call_frame_cfa forms).
// Otherwise Pieces lists the parts of the object in order, lowest address
// first. An expression without DW_OP_piece that names a register, a
// stack_value or an implicit_value gives exactly one piece of Size 0; an
// empty expression gives one UndefinedPiece of Size 0.
type Location struct {
	Addr   uint64
	IsAddr bool
	Pieces []Piece
}

// OptimizedOut reports whether no byte of the object is available.
func (l Location) OptimizedOut() bool {
	if l.IsAddr {
		return false
	}
	for _, p := range l.Pieces {
		if p.Kind != UndefinedPiece {
			return false
		}
	}
	return true
}

// String describes the location for logs and test failures.
func (l Location) String() string {
	if l.IsAddr {
		return fmt.Sprintf("addr %#x", l.Addr)
	}
	return fmt.Sprintf("pieces %+v", l.Pieces)
}

// Bytes assembles the size bytes of the object at l: memory pieces are read
// through mem, register and value pieces are taken little-endian from regs
// (8 bytes per general register, 16 per XMM register) and the computed
// values. If some pieces are undefined the returned bytes
// have zeros there and the error wraps ErrOptimizedOut, so callers can still
// show the available parts. A piece of Size 0 stands for all remaining
// bytes.
func (l Location) Bytes(size int, regs *DwarfRegisters, mem MemoryReader) ([]byte, error) {
	if size < 0 {
		return nil, fmt.Errorf("negative object size %d: %w", size, ErrMalformed)
	}
	out := make([]byte, size)
	if l.IsAddr {
		return out, readFull(mem, out, l.Addr)
	}
	var undefined error
	pos := 0
	for i, p := range l.Pieces {
		n := p.Size
		if n == 0 || n > size-pos {
			n = size - pos
		}
		dst := out[pos : pos+n]
		switch p.Kind {
		case MemoryPiece:
			if err := readFull(mem, dst, p.Addr); err != nil {
				return out, fmt.Errorf("piece %d: %w", i, err)
			}
		case RegisterPiece:
			b, err := regs.RegBytes(p.Reg)
			if err != nil {
				return out, fmt.Errorf("piece %d: %w", i, err)
			}
			if p.Offset < len(b) {
				copy(dst, b[p.Offset:])
			}
		case ValuePiece:
			copyWord(dst, p.Value, p.Offset)
		case ImplicitPiece:
			copy(dst, p.Bytes)
		case UndefinedPiece:
			undefined = fmt.Errorf("piece %d (%d bytes at offset %d): %w", i, n, pos, ErrOptimizedOut)
		}
		pos += n
		if pos >= size {
			break
		}
	}
	return out, undefined
}

// copyWord copies the little-endian bytes of v starting at byte offset off
// into dst; bytes beyond the 8-byte word stay zero.
func copyWord(dst []byte, v uint64, off int) {
	var w [8]byte
	binary.LittleEndian.PutUint64(w[:], v)
	if off < len(w) {
		copy(dst, w[off:])
	}
}

// readFull reads exactly len(buf) bytes at addr.
func readFull(mem MemoryReader, buf []byte, addr uint64) error {
	if len(buf) == 0 {
		return nil
	}
	if mem == nil {
		return fmt.Errorf("reading %#x: no memory reader: %w", addr, ErrMemory)
	}
	n, err := mem.ReadMemory(buf, addr)
	if err != nil {
		return fmt.Errorf("reading %d bytes at %#x: %w: %w", len(buf), addr, ErrMemory, err)
	}
	if n < len(buf) {
		return fmt.Errorf("reading %d bytes at %#x: short read of %d: %w", len(buf), addr, n, ErrMemory)
	}
	return nil
}

// Errors reported by Execute, Bytes and Disassemble; test with errors.Is.
var (
	ErrTruncated           = errors.New("expression ends inside an operation")
	ErrUnknownOpcode       = errors.New("unknown opcode")
	ErrUnsupported         = errors.New("operation not supported")
	ErrStackUnderflow      = errors.New("stack underflow")
	ErrDivideByZero        = errors.New("division by zero")
	ErrRegisterUnavailable = errors.New("register value unavailable")
	ErrFrameUnknown        = errors.New("CFA or frame base unknown")
	ErrMemory              = errors.New("memory read failed")
	ErrMalformed           = errors.New("malformed expression")
	ErrTooManySteps        = errors.New("expression runs too long")
	ErrOptimizedOut        = errors.New("value optimized out")
)

// Error locates a failure inside an expression. Err is one of the Err*
// values above, possibly wrapped with details.
type Error struct {
	Offset int    // byte offset of the failing operation
	Op     Opcode // the failing operation
	Err    error
}

// Error formats the failure with its position.
func (e *Error) Error() string {
	return fmt.Sprintf("%s at offset %d: %v", e.Op, e.Offset, e.Err)
}

// Unwrap exposes the cause to errors.Is / errors.As.
func (e *Error) Unwrap() error { return e.Err }
