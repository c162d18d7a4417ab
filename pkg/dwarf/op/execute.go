package op

import (
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
)

// maxSteps bounds the operations one evaluation may run, so that a looping
// DW_OP_skip/DW_OP_bra in corrupt DWARF cannot hang the debugger.
const maxSteps = 10000

// maxStack bounds the expression stack for the same reason.
const maxStack = 1024

// pendingKind is what the location description being built refers to when
// the next DW_OP_piece (or the end) arrives.
type pendingKind uint8

const (
	pendNone     pendingKind = iota // memory address on top of the stack, if any
	pendRegister                    // DW_OP_reg*
	pendValue                       // DW_OP_stack_value
	pendImplicit                    // DW_OP_implicit_value
)

// machine is the state of one evaluation.
type machine struct {
	d       decoder
	regs    *DwarfRegisters
	mem     MemoryReader
	mask    uint64 // keeps values within the address size
	stack   []uint64
	pend    pendingKind
	reg     uint64
	value   uint64
	bytes   []byte
	pieces  []Piece
	sawPart bool // a DW_OP_piece was seen
}

// Execute evaluates a location expression and returns where the object is.
// ptrSize is the target address size (8 on amd64; 4 is also accepted).
// regs supplies registers, CFA, frame base, load bias and .debug_addr
// access; mem serves DW_OP_deref and may be nil for expressions that do not
// dereference. Malformed input yields an *Error wrapping one of the Err*
// values, never a panic.
func Execute(expr []byte, regs *DwarfRegisters, mem MemoryReader, ptrSize int) (Location, error) {
	if ptrSize != 4 && ptrSize != 8 {
		return Location{}, fmt.Errorf("address size %d: %w", ptrSize, ErrUnsupported)
	}
	if regs == nil {
		regs = &DwarfRegisters{}
	}
	if len(expr) == 0 {
		return Location{Pieces: []Piece{{Kind: UndefinedPiece}}}, nil
	}
	m := &machine{
		d:    decoder{expr: expr, ptrSize: ptrSize, order: regs.byteOrder()},
		regs: regs,
		mem:  mem,
		mask: ^uint64(0) >> (64 - 8*uint(ptrSize)),
	}
	pc := 0
	for steps := 0; pc < len(expr); steps++ {
		if steps >= maxSteps {
			return Location{}, &Error{Offset: pc, Op: Opcode(expr[pc]), Err: ErrTooManySteps}
		}
		in, err := m.d.decode(pc)
		if err != nil {
			return Location{}, err
		}
		next, err := m.step(in)
		if err != nil {
			return Location{}, &Error{Offset: in.off, Op: in.op, Err: err}
		}
		pc = next
	}
	return m.result(len(expr))
}

// result turns the final machine state into a Location.
func (m *machine) result(end int) (Location, error) {
	if m.sawPart {
		if m.pend != pendNone || len(m.stack) > 0 {
			return Location{}, &Error{Offset: end, Err: fmt.Errorf("location after the last DW_OP_piece: %w", ErrMalformed)}
		}
		return Location{Pieces: m.pieces}, nil
	}
	switch m.pend {
	case pendRegister:
		return Location{Pieces: []Piece{{Kind: RegisterPiece, Reg: m.reg}}}, nil
	case pendValue:
		return Location{Pieces: []Piece{{Kind: ValuePiece, Value: m.value}}}, nil
	case pendImplicit:
		return Location{Pieces: []Piece{{Kind: ImplicitPiece, Bytes: m.bytes}}}, nil
	}
	if len(m.stack) == 0 {
		return Location{}, &Error{Offset: end, Err: fmt.Errorf("no address left on the stack: %w", ErrStackUnderflow)}
	}
	return Location{Addr: m.stack[len(m.stack)-1], IsAddr: true}, nil
}

func (m *machine) push(v uint64) error {
	if len(m.stack) >= maxStack {
		return fmt.Errorf("more than %d entries: %w", maxStack, ErrMalformed)
	}
	m.stack = append(m.stack, v&m.mask)
	return nil
}

func (m *machine) pop() (uint64, error) {
	if len(m.stack) == 0 {
		return 0, ErrStackUnderflow
	}
	v := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

// signed views a stack value as a signed number of the address size.
func (m *machine) signed(v uint64) int64 {
	if m.mask == ^uint64(0) {
		return int64(v)
	}
	return signExtend(v, m.d.ptrSize)
}

// step runs one operation and returns the offset of the next one.
func (m *machine) step(in instr) (int, error) {
	if m.pend != pendNone && in.op != DW_OP_piece && in.op != DW_OP_bit_piece {
		return 0, fmt.Errorf("operation after a register or implicit location: %w", ErrMalformed)
	}
	op := in.op
	switch {
	case op >= DW_OP_lit0 && op <= DW_OP_lit31:
		return in.next, m.push(uint64(op - DW_OP_lit0))
	case op >= DW_OP_reg0 && op <= DW_OP_reg31:
		m.pend, m.reg = pendRegister, uint64(op-DW_OP_reg0)
		return in.next, nil
	case op >= DW_OP_breg0 && op <= DW_OP_breg31:
		return in.next, m.pushReg(uint64(op-DW_OP_breg0), in.s)
	}
	switch op {
	case DW_OP_nop:
	case DW_OP_addr:
		return in.next, m.push(in.u + m.regs.StaticBase)
	case DW_OP_addrx, DW_OP_GNU_addr_index, DW_OP_constx, DW_OP_GNU_const_index:
		if m.regs.AddrIndex == nil {
			return 0, fmt.Errorf(".debug_addr index %d without an address resolver: %w", in.u, ErrUnsupported)
		}
		v, err := m.regs.AddrIndex(in.u)
		if err != nil {
			return 0, fmt.Errorf(".debug_addr index %d: %w", in.u, err)
		}
		if op == DW_OP_addrx || op == DW_OP_GNU_addr_index {
			v += m.regs.StaticBase // constx values are not addresses: no load bias
		}
		return in.next, m.push(v)
	case DW_OP_const1u, DW_OP_const2u, DW_OP_const4u, DW_OP_const8u, DW_OP_constu, DW_OP_plus_uconst:
		if op == DW_OP_plus_uconst {
			v, err := m.pop()
			if err != nil {
				return 0, err
			}
			return in.next, m.push(v + in.u)
		}
		return in.next, m.push(in.u)
	case DW_OP_const1s, DW_OP_const2s, DW_OP_const4s, DW_OP_const8s, DW_OP_consts:
		return in.next, m.push(uint64(in.s))
	case DW_OP_regx:
		m.pend, m.reg = pendRegister, in.u
	case DW_OP_bregx:
		return in.next, m.pushReg(in.u, in.s2)
	case DW_OP_fbreg:
		if m.regs.FrameBase == 0 {
			return 0, fmt.Errorf("frame base: %w", ErrFrameUnknown)
		}
		return in.next, m.push(uint64(m.regs.FrameBase + in.s))
	case DW_OP_call_frame_cfa:
		if m.regs.CFA == 0 {
			return 0, fmt.Errorf("CFA: %w", ErrFrameUnknown)
		}
		return in.next, m.push(uint64(m.regs.CFA))
	case DW_OP_dup, DW_OP_over, DW_OP_pick:
		idx := 0
		if op == DW_OP_over {
			idx = 1
		} else if op == DW_OP_pick {
			idx = int(in.u)
		}
		if idx >= len(m.stack) {
			return 0, ErrStackUnderflow
		}
		return in.next, m.push(m.stack[len(m.stack)-1-idx])
	case DW_OP_drop:
		_, err := m.pop()
		return in.next, err
	case DW_OP_swap:
		n := len(m.stack)
		if n < 2 {
			return 0, ErrStackUnderflow
		}
		m.stack[n-1], m.stack[n-2] = m.stack[n-2], m.stack[n-1]
	case DW_OP_rot:
		// The top entry moves to third place; the second and third move up.
		n := len(m.stack)
		if n < 3 {
			return 0, ErrStackUnderflow
		}
		a, b, c := m.stack[n-3], m.stack[n-2], m.stack[n-1]
		m.stack[n-3], m.stack[n-2], m.stack[n-1] = c, a, b
	case DW_OP_deref, DW_OP_deref_size:
		return in.next, m.deref(in)
	case DW_OP_abs, DW_OP_neg, DW_OP_not:
		return in.next, m.unary(op)
	case DW_OP_and, DW_OP_div, DW_OP_minus, DW_OP_mod, DW_OP_mul, DW_OP_or, DW_OP_plus,
		DW_OP_shl, DW_OP_shr, DW_OP_shra, DW_OP_xor,
		DW_OP_eq, DW_OP_ge, DW_OP_gt, DW_OP_le, DW_OP_lt, DW_OP_ne:
		return in.next, m.binary(op)
	case DW_OP_skip, DW_OP_bra:
		return m.branch(in)
	case DW_OP_piece, DW_OP_bit_piece:
		return in.next, m.piece(in)
	case DW_OP_stack_value:
		v, err := m.pop()
		if err != nil {
			return 0, err
		}
		m.pend, m.value = pendValue, v
	case DW_OP_implicit_value:
		m.pend, m.bytes = pendImplicit, in.block
	case DW_OP_entry_value, DW_OP_GNU_entry_value:
		return 0, fmt.Errorf("value at function entry (%s): %w", Disassemble(in.block), ErrUnsupported)
	case DW_OP_form_tls_address, DW_OP_GNU_push_tls_address:
		return 0, fmt.Errorf("thread-local storage: %w", ErrUnsupported)
	default:
		return 0, ErrUnsupported
	}
	return in.next, nil
}

// pushReg pushes register n plus off (DW_OP_breg*, DW_OP_bregx).
func (m *machine) pushReg(n uint64, off int64) error {
	v, ok := m.regs.Reg(n)
	if !ok {
		return fmt.Errorf("register %d: %w", n, ErrRegisterUnavailable)
	}
	return m.push(v + uint64(off))
}

// deref replaces the address on top of the stack with the value there.
func (m *machine) deref(in instr) error {
	size := m.d.ptrSize
	if in.op == DW_OP_deref_size {
		size = int(in.u)
		if size == 0 || size > m.d.ptrSize {
			return fmt.Errorf("size %d: %w", size, ErrMalformed)
		}
	}
	addr, err := m.pop()
	if err != nil {
		return err
	}
	buf := make([]byte, size)
	if err := readFull(m.mem, buf, addr); err != nil {
		return err
	}
	return m.push(dwarfbuf.Uint(buf, m.d.order))
}

// unary applies a one-operand arithmetic operation.
func (m *machine) unary(op Opcode) error {
	v, err := m.pop()
	if err != nil {
		return err
	}
	switch op {
	case DW_OP_abs:
		if s := m.signed(v); s < 0 {
			v = uint64(-s)
		}
	case DW_OP_neg:
		v = uint64(-m.signed(v))
	case DW_OP_not:
		v = ^v
	}
	return m.push(v)
}

// binary pops the top (b) and second (a) entries and pushes a op b.
func (m *machine) binary(op Opcode) error {
	b, err := m.pop()
	if err != nil {
		return err
	}
	a, err := m.pop()
	if err != nil {
		return err
	}
	sa, sb := m.signed(a), m.signed(b)
	var r uint64
	switch op {
	case DW_OP_and:
		r = a & b
	case DW_OP_or:
		r = a | b
	case DW_OP_xor:
		r = a ^ b
	case DW_OP_plus:
		r = a + b
	case DW_OP_minus:
		r = a - b
	case DW_OP_mul:
		r = a * b
	case DW_OP_div:
		if sb == 0 {
			return ErrDivideByZero
		}
		if sb == -1 {
			r = uint64(-sa) // avoids the MinInt64 / -1 trap
		} else {
			r = uint64(sa / sb)
		}
	case DW_OP_mod:
		if b == 0 {
			return ErrDivideByZero
		}
		r = a % b
	case DW_OP_shl, DW_OP_shr, DW_OP_shra:
		r = shift(op, a, sa, b, m.d.ptrSize)
	case DW_OP_eq:
		r = boolVal(sa == sb)
	case DW_OP_ne:
		r = boolVal(sa != sb)
	case DW_OP_lt:
		r = boolVal(sa < sb)
	case DW_OP_gt:
		r = boolVal(sa > sb)
	case DW_OP_le:
		r = boolVal(sa <= sb)
	case DW_OP_ge:
		r = boolVal(sa >= sb)
	}
	return m.push(r)
}

// shift implements shl, shr (logical) and shra (arithmetic); shifting by
// the address width or more gives 0 (or all sign bits for shra).
func shift(op Opcode, a uint64, sa int64, n uint64, ptrSize int) uint64 {
	width := uint64(8 * ptrSize)
	if n >= width {
		if op == DW_OP_shra && sa < 0 {
			return ^uint64(0)
		}
		return 0
	}
	switch op {
	case DW_OP_shl:
		return a << n
	case DW_OP_shr:
		return a >> n
	}
	return uint64(sa >> n)
}

func boolVal(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// branch implements DW_OP_skip and DW_OP_bra; the target is relative to
// the end of the operation and must land on the expression (its end counts).
func (m *machine) branch(in instr) (int, error) {
	if in.op == DW_OP_bra {
		v, err := m.pop()
		if err != nil {
			return 0, err
		}
		if v == 0 {
			return in.next, nil
		}
	}
	target := in.next + int(in.s)
	if target < 0 || target > len(m.d.expr) {
		return 0, fmt.Errorf("branch to %d outside the expression: %w", target, ErrMalformed)
	}
	return target, nil
}

// piece closes the current location description as one piece.
func (m *machine) piece(in instr) error {
	size, off := in.u, uint64(0)
	if in.op == DW_OP_bit_piece {
		if in.u%8 != 0 || in.u2%8 != 0 {
			return fmt.Errorf("bit piece of %d bits at bit %d is not byte aligned: %w", in.u, in.u2, ErrUnsupported)
		}
		size, off = in.u/8, in.u2/8
	}
	if size == 0 || size > 1<<30 || off > 1<<30 {
		return fmt.Errorf("piece size %d offset %d: %w", size, off, ErrMalformed)
	}
	p := Piece{Size: int(size), Offset: int(off)}
	switch m.pend {
	case pendRegister:
		p.Kind, p.Reg = RegisterPiece, m.reg
	case pendValue:
		p.Kind, p.Value = ValuePiece, m.value
	case pendImplicit:
		p.Kind, p.Bytes, p.Offset = ImplicitPiece, m.bytes, 0
		if int(off) < len(m.bytes) {
			p.Bytes = m.bytes[off:]
		} else {
			p.Bytes = nil
		}
	default:
		if len(m.stack) == 0 {
			p.Kind, p.Offset = UndefinedPiece, 0
		} else {
			p.Kind, p.Addr, p.Offset = MemoryPiece, m.stack[len(m.stack)-1]+off, 0
		}
	}
	m.pieces = append(m.pieces, p)
	m.sawPart = true
	m.pend, m.stack = pendNone, m.stack[:0]
	return nil
}
