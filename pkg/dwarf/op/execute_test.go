package op

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
)

// fakeMem is a sparse memory made of 8-byte little-endian words.
type fakeMem map[uint64]uint64

func (f fakeMem) ReadMemory(buf []byte, addr uint64) (int, error) {
	for i := range buf {
		a := addr + uint64(i)
		w, ok := f[a&^7]
		if !ok {
			return i, fmt.Errorf("unmapped address %#x", a)
		}
		buf[i] = byte(w >> (8 * (a & 7)))
	}
	return len(buf), nil
}

func testRegs() *DwarfRegisters {
	r := NewDwarfRegisters([]uint64{0: 0x1000, 3: 0x2000, 7: 0xc000_0100, 17: 0x4004000000000000}, []bool{0: true, 3: true, 7: true, 17: true})
	r.CFA = 0xc000_0200
	r.FrameBase = 0xc000_0200
	return r
}

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int64) []byte { return dwarfbuf.AppendSLEB128(nil, v) }

func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case Opcode:
			b = append(b, byte(p))
		case byte:
			b = append(b, p)
		case []byte:
			b = append(b, p...)
		default:
			panic(fmt.Sprintf("cat: %T", p))
		}
	}
	return b
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func le16(v int16) []byte  { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }

func TestExecuteAddresses(t *testing.T) {
	mem := fakeMem{0xc000_0100: 0xdead_0000, 0xc000_0208: 0x1122_3344_5566_7788}
	cases := []struct {
		name string
		expr []byte
		want uint64
	}{
		{"fbreg", cat(DW_OP_fbreg, sleb(-24)), 0xc000_0200 - 24},
		{"call_frame_cfa", cat(DW_OP_call_frame_cfa), 0xc000_0200},
		{"cfa plus_uconst", cat(DW_OP_call_frame_cfa, DW_OP_plus_uconst, uleb(8)), 0xc000_0208},
		{"addr", cat(DW_OP_addr, le64(0x5a_0000)), 0x5a_0000},
		{"breg7", cat(DW_OP_breg0+7, sleb(16)), 0xc000_0110},
		{"bregx", cat(DW_OP_bregx, uleb(3), sleb(-1)), 0x1fff},
		{"deref", cat(DW_OP_breg0+7, sleb(0), DW_OP_deref), 0xdead_0000},
		{"deref_size 2", cat(DW_OP_call_frame_cfa, DW_OP_lit8, DW_OP_plus, DW_OP_deref_size, byte(2)), 0x7788},
		{"lit31", cat(DW_OP_lit31), 31},
		{"const1s", cat(DW_OP_const1s, byte(0xff)), ^uint64(0)},
		{"const2u", cat(DW_OP_const2u, byte(0x34), byte(0x12)), 0x1234},
		{"const4s", cat(DW_OP_const4s, []byte{0xfe, 0xff, 0xff, 0xff}), ^uint64(1)},
		{"const8u", cat(DW_OP_const8u, le64(1<<63)), 1 << 63},
		{"constu consts", cat(DW_OP_constu, uleb(1000), DW_OP_consts, sleb(-10), DW_OP_plus), 990},
		{"minus", cat(DW_OP_lit10, DW_OP_lit3, DW_OP_minus), 7},
		{"mul", cat(DW_OP_lit6, DW_OP_lit7, DW_OP_mul), 42},
		{"div signed", cat(DW_OP_consts, sleb(-9), DW_OP_lit2, DW_OP_div), uint64(0xffff_ffff_ffff_fffc)},
		{"mod", cat(DW_OP_lit9, DW_OP_lit4, DW_OP_mod), 1},
		{"and or xor", cat(DW_OP_lit12, DW_OP_lit10, DW_OP_and, DW_OP_lit1, DW_OP_or, DW_OP_lit3, DW_OP_xor), 10},
		{"neg", cat(DW_OP_lit5, DW_OP_neg), uint64(0xffff_ffff_ffff_fffb)},
		{"abs", cat(DW_OP_consts, sleb(-5), DW_OP_abs), 5},
		{"not", cat(DW_OP_lit0, DW_OP_not), ^uint64(0)},
		{"shl", cat(DW_OP_lit1, DW_OP_lit4, DW_OP_shl), 16},
		{"shr logical", cat(DW_OP_consts, sleb(-16), DW_OP_const1u, byte(60), DW_OP_shr), 15},
		{"shra", cat(DW_OP_consts, sleb(-16), DW_OP_lit2, DW_OP_shra), uint64(0xffff_ffff_ffff_fffc)},
		{"shl too far", cat(DW_OP_lit1, DW_OP_const1u, byte(64), DW_OP_shl), 0},
		{"lt signed", cat(DW_OP_consts, sleb(-1), DW_OP_lit0, DW_OP_lt), 1},
		{"gt", cat(DW_OP_lit3, DW_OP_lit2, DW_OP_gt), 1},
		{"le ge eq ne", cat(DW_OP_lit2, DW_OP_lit2, DW_OP_le, DW_OP_lit2, DW_OP_lit3, DW_OP_ge, DW_OP_plus, DW_OP_lit4, DW_OP_lit4, DW_OP_eq, DW_OP_plus, DW_OP_lit4, DW_OP_lit5, DW_OP_ne, DW_OP_plus), 3},
		{"dup plus", cat(DW_OP_lit7, DW_OP_dup, DW_OP_plus), 14},
		{"drop", cat(DW_OP_lit7, DW_OP_lit9, DW_OP_drop), 7},
		{"over", cat(DW_OP_lit7, DW_OP_lit9, DW_OP_over), 7},
		{"pick 2", cat(DW_OP_lit1, DW_OP_lit2, DW_OP_lit3, DW_OP_pick, byte(2)), 1},
		{"swap", cat(DW_OP_lit10, DW_OP_lit3, DW_OP_swap, DW_OP_minus), uint64(0xffff_ffff_ffff_fff9)},
		// [1 2 3] rot -> [3 1 2]: top is 2, then minus gives 1-2... check via 100*a+10*b+c.
		{"rot", cat(DW_OP_lit1, DW_OP_lit2, DW_OP_lit3, DW_OP_rot,
			DW_OP_swap, DW_OP_const1u, byte(10), DW_OP_mul, DW_OP_plus, // [3, 2+10*1]
			DW_OP_swap, DW_OP_const1u, byte(100), DW_OP_mul, DW_OP_plus), 312},
		{"skip", cat(DW_OP_lit1, DW_OP_skip, le16(1), DW_OP_lit2), 1},
		{"bra taken", cat(DW_OP_lit7, DW_OP_lit1, DW_OP_bra, le16(1), DW_OP_lit2), 7},
		{"bra not taken", cat(DW_OP_lit7, DW_OP_lit0, DW_OP_bra, le16(1), DW_OP_lit2), 2},
		// A backwards loop: counts 3 down to 0 and leaves 0.
		{"loop", cat(DW_OP_lit3, DW_OP_lit1, DW_OP_minus, DW_OP_dup, DW_OP_bra, le16(-6)), 0},
		{"nop", cat(DW_OP_nop, DW_OP_lit4, DW_OP_nop), 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc, err := Execute(c.expr, testRegs(), mem, 8)
			if err != nil {
				t.Fatalf("Execute(%s): %v", Disassemble(c.expr), err)
			}
			if !loc.IsAddr || loc.Addr != c.want || loc.Pieces != nil {
				t.Fatalf("Execute(%s) = %v, want addr %#x", Disassemble(c.expr), loc, c.want)
			}
		})
	}
}

func TestExecuteStaticBaseAndAddrx(t *testing.T) {
	regs := testRegs()
	regs.StaticBase = 0x5555_0000_0000
	regs.AddrIndex = func(i uint64) (uint64, error) {
		if i != 2 {
			return 0, fmt.Errorf("index %d out of range", i)
		}
		return 0x40_1000, nil
	}
	for _, c := range []struct {
		expr []byte
		want uint64
	}{
		{cat(DW_OP_addr, le64(0x40_2000)), 0x5555_0040_2000},
		{cat(DW_OP_addrx, uleb(2)), 0x5555_0040_1000},
		{cat(DW_OP_GNU_addr_index, uleb(2)), 0x5555_0040_1000},
		{cat(DW_OP_constx, uleb(2)), 0x40_1000},
	} {
		loc, err := Execute(c.expr, regs, nil, 8)
		if err != nil || !loc.IsAddr || loc.Addr != c.want {
			t.Errorf("Execute(%s) = %v, %v; want addr %#x", Disassemble(c.expr), loc, err, c.want)
		}
	}
	if _, err := Execute(cat(DW_OP_addrx, uleb(9)), regs, nil, 8); err == nil {
		t.Errorf("addrx 9 succeeded, want resolver error")
	}
	if _, err := Execute(cat(DW_OP_addrx, uleb(2)), testRegs(), nil, 8); !errors.Is(err, ErrUnsupported) {
		t.Errorf("addrx without resolver: err = %v, want ErrUnsupported", err)
	}
}

func TestExecutePtrSize4(t *testing.T) {
	loc, err := Execute(cat(DW_OP_lit0, DW_OP_lit1, DW_OP_minus, DW_OP_lit4, DW_OP_shra), nil, nil, 4)
	if err != nil || loc.Addr != 0xffff_ffff {
		t.Fatalf("32-bit -1 >>a 4 = %v, %v; want 0xffffffff", loc, err)
	}
	loc, err = Execute(cat(DW_OP_addr, []byte{0x78, 0x56, 0x34, 0x12}), nil, nil, 4)
	if err != nil || loc.Addr != 0x1234_5678 {
		t.Fatalf("32-bit addr = %v, %v", loc, err)
	}
}

func TestExecutePieces(t *testing.T) {
	cases := []struct {
		name string
		expr []byte
		want []Piece
	}{
		{"single register", cat(DW_OP_reg0 + 3), []Piece{{Kind: RegisterPiece, Reg: 3}}},
		{"regx xmm0", cat(DW_OP_regx, uleb(17)), []Piece{{Kind: RegisterPiece, Reg: 17}}},
		{"go string in rax,rbx", cat(DW_OP_reg0, DW_OP_piece, uleb(8), DW_OP_reg0+3, DW_OP_piece, uleb(8)),
			[]Piece{{Kind: RegisterPiece, Size: 8, Reg: 0}, {Kind: RegisterPiece, Size: 8, Reg: 3}}},
		{"first half optimized out", cat(DW_OP_piece, uleb(8), DW_OP_reg0+3, DW_OP_piece, uleb(8)),
			[]Piece{{Kind: UndefinedPiece, Size: 8}, {Kind: RegisterPiece, Size: 8, Reg: 3}}},
		{"memory and register", cat(DW_OP_fbreg, sleb(8), DW_OP_piece, uleb(8), DW_OP_reg0+1, DW_OP_piece, uleb(4)),
			[]Piece{{Kind: MemoryPiece, Size: 8, Addr: 0xc000_0208}, {Kind: RegisterPiece, Size: 4, Reg: 1}}},
		{"stack value", cat(DW_OP_lit5, DW_OP_stack_value), []Piece{{Kind: ValuePiece, Value: 5}}},
		{"stack value piece", cat(DW_OP_lit5, DW_OP_stack_value, DW_OP_piece, uleb(4), DW_OP_lit6, DW_OP_stack_value, DW_OP_piece, uleb(4)),
			[]Piece{{Kind: ValuePiece, Size: 4, Value: 5}, {Kind: ValuePiece, Size: 4, Value: 6}}},
		{"implicit value", cat(DW_OP_implicit_value, uleb(3), []byte{1, 2, 3}), []Piece{{Kind: ImplicitPiece, Bytes: []byte{1, 2, 3}}}},
		{"bit_piece register", cat(DW_OP_reg0, DW_OP_bit_piece, uleb(32), uleb(32)), []Piece{{Kind: RegisterPiece, Size: 4, Offset: 4, Reg: 0}}},
		{"bit_piece memory", cat(DW_OP_call_frame_cfa, DW_OP_bit_piece, uleb(16), uleb(8)), []Piece{{Kind: MemoryPiece, Size: 2, Addr: 0xc000_0201}}},
		{"empty", nil, []Piece{{Kind: UndefinedPiece}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc, err := Execute(c.expr, testRegs(), nil, 8)
			if err != nil {
				t.Fatalf("Execute(%s): %v", Disassemble(c.expr), err)
			}
			if loc.IsAddr || !reflect.DeepEqual(loc.Pieces, c.want) {
				t.Fatalf("Execute(%s) = %+v, want pieces %+v", Disassemble(c.expr), loc, c.want)
			}
		})
	}
}

func TestLocationBytes(t *testing.T) {
	mem := fakeMem{0xc000_0200: 0x0807_0605_0403_0201}
	regs := testRegs()
	loc, _ := Execute(cat(DW_OP_reg0+3, DW_OP_piece, uleb(2), DW_OP_call_frame_cfa, DW_OP_piece, uleb(2), DW_OP_piece, uleb(2), DW_OP_lit9, DW_OP_stack_value, DW_OP_piece, uleb(2)), regs, mem, 8)
	got, err := loc.Bytes(8, regs, mem)
	if !errors.Is(err, ErrOptimizedOut) {
		t.Fatalf("Bytes err = %v, want ErrOptimizedOut for the undefined piece", err)
	}
	if want := []byte{0x00, 0x20, 0x01, 0x02, 0, 0, 9, 0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Bytes = % x, want % x", got, want)
	}
	whole, _ := Execute(cat(DW_OP_call_frame_cfa), regs, mem, 8)
	if got, err := whole.Bytes(3, regs, mem); err != nil || !reflect.DeepEqual(got, []byte{1, 2, 3}) {
		t.Fatalf("memory Bytes = % x, %v", got, err)
	}
	if _, err := whole.Bytes(8, regs, fakeMem{}); !errors.Is(err, ErrMemory) {
		t.Fatalf("unmapped read err = %v, want ErrMemory", err)
	}
	xmm, _ := Execute(cat(DW_OP_regx, uleb(17)), regs, mem, 8)
	if got, err := xmm.Bytes(8, regs, mem); err != nil || binary.LittleEndian.Uint64(got) != 0x4004000000000000 {
		t.Fatalf("xmm0 Bytes = % x, %v", got, err)
	}
	if !(Location{Pieces: []Piece{{Kind: UndefinedPiece, Size: 8}}}).OptimizedOut() {
		t.Fatalf("all-undefined location not reported optimized out")
	}
}

func TestExecuteErrors(t *testing.T) {
	noFrame := NewDwarfRegisters(nil, nil)
	cases := []struct {
		name string
		expr []byte
		regs *DwarfRegisters
		want error
	}{
		{"truncated addr", cat(DW_OP_addr, []byte{1, 2, 3}), nil, ErrTruncated},
		{"truncated uleb", cat(DW_OP_constu, byte(0x80)), nil, ErrTruncated},
		{"uleb past 64 bits", cat(DW_OP_constu, bytes.Repeat([]byte{0x80}, 9), byte(0x02)), nil, ErrMalformed},
		{"truncated implicit", cat(DW_OP_implicit_value, uleb(5), byte(1)), nil, ErrTruncated},
		{"unknown opcode", []byte{0x01}, nil, ErrUnknownOpcode},
		{"underflow", cat(DW_OP_plus), nil, ErrStackUnderflow},
		{"pick too deep", cat(DW_OP_lit1, DW_OP_pick, byte(1)), nil, ErrStackUnderflow},
		{"empty stack at end", cat(DW_OP_lit1, DW_OP_drop), nil, ErrStackUnderflow},
		{"div by zero", cat(DW_OP_lit1, DW_OP_lit0, DW_OP_div), nil, ErrDivideByZero},
		{"mod by zero", cat(DW_OP_lit1, DW_OP_lit0, DW_OP_mod), nil, ErrDivideByZero},
		{"missing register", cat(DW_OP_breg0+9, sleb(0)), nil, ErrRegisterUnavailable},
		{"no frame base", cat(DW_OP_fbreg, sleb(8)), noFrame, ErrFrameUnknown},
		{"no cfa", cat(DW_OP_call_frame_cfa), noFrame, ErrFrameUnknown},
		{"deref without memory", cat(DW_OP_lit8, DW_OP_deref), nil, ErrMemory},
		{"deref_size too big", cat(DW_OP_lit8, DW_OP_deref_size, byte(9)), nil, ErrMalformed},
		{"op after register", cat(DW_OP_reg0, DW_OP_lit1), nil, ErrMalformed},
		{"trailing after piece", cat(DW_OP_reg0, DW_OP_piece, uleb(8), DW_OP_lit1), nil, ErrMalformed},
		{"zero piece", cat(DW_OP_reg0, DW_OP_piece, uleb(0)), nil, ErrMalformed},
		{"bit piece unaligned", cat(DW_OP_reg0, DW_OP_bit_piece, uleb(3), uleb(0)), nil, ErrUnsupported},
		{"branch out", cat(DW_OP_skip, le16(100)), nil, ErrMalformed},
		{"infinite loop", cat(DW_OP_skip, le16(-3)), nil, ErrTooManySteps},
		{"entry value", cat(DW_OP_entry_value, uleb(1), DW_OP_reg0+5, DW_OP_stack_value), nil, ErrUnsupported},
		{"gnu entry value", cat(DW_OP_GNU_entry_value, uleb(1), DW_OP_reg0+5, DW_OP_stack_value), nil, ErrUnsupported},
		{"form tls", cat(DW_OP_lit8, DW_OP_form_tls_address), nil, ErrUnsupported},
		{"gnu tls", cat(DW_OP_const8u, le64(16), DW_OP_GNU_push_tls_address), nil, ErrUnsupported},
		{"call2", cat(DW_OP_call2, le16(4)), nil, ErrUnsupported},
		{"stack overflow", append(cat(DW_OP_lit1), func() []byte {
			b := make([]byte, 2000)
			for i := range b {
				b[i] = byte(DW_OP_dup)
			}
			return b
		}()...), nil, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			regs := c.regs
			if regs == nil {
				regs = testRegs()
			}
			_, err := Execute(c.expr, regs, nil, 8)
			if !errors.Is(err, c.want) {
				t.Fatalf("Execute(% x) err = %v, want %v", c.expr, err, c.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *op.Error", err)
			}
		})
	}
	if _, err := Execute([]byte{byte(DW_OP_lit1)}, nil, nil, 2); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("ptrSize 2: err = %v, want ErrUnsupported", err)
	}
}

func TestDisassemble(t *testing.T) {
	cases := []struct {
		expr []byte
		want string
	}{
		{cat(DW_OP_fbreg, sleb(-24)), "DW_OP_fbreg -24"},
		{cat(DW_OP_call_frame_cfa), "DW_OP_call_frame_cfa"},
		{cat(DW_OP_reg0, DW_OP_piece, uleb(8), DW_OP_reg0+3, DW_OP_piece, uleb(8)), "DW_OP_reg0; DW_OP_piece 8; DW_OP_reg3; DW_OP_piece 8"},
		{cat(DW_OP_addr, le64(0x4c1a20)), "DW_OP_addr 0x4c1a20"},
		{cat(DW_OP_breg0+7, sleb(16), DW_OP_deref), "DW_OP_breg7 +16; DW_OP_deref"},
		{cat(DW_OP_bregx, uleb(33), sleb(-8)), "DW_OP_bregx 33 -8"},
		{cat(DW_OP_const1s, byte(0xfe), DW_OP_consts, sleb(-300), DW_OP_constu, uleb(300)), "DW_OP_const1s -2; DW_OP_consts -300; DW_OP_constu 300"},
		{cat(DW_OP_lit17, DW_OP_skip, le16(-3), DW_OP_bra, le16(2)), "DW_OP_lit17; DW_OP_skip -3; DW_OP_bra +2"},
		{cat(DW_OP_bit_piece, uleb(32), uleb(0)), "DW_OP_bit_piece 32 0"},
		{cat(DW_OP_implicit_value, uleb(2), []byte{0xab, 0xcd}), "DW_OP_implicit_value 2 abcd"},
		{cat(DW_OP_entry_value, uleb(1), DW_OP_reg0+5, DW_OP_stack_value), "DW_OP_entry_value(DW_OP_reg5); DW_OP_stack_value"},
		{cat(DW_OP_addrx, uleb(3), DW_OP_GNU_push_tls_address), "DW_OP_addrx 3; DW_OP_GNU_push_tls_address"},
		{cat(DW_OP_lit1, byte(0x01)), "DW_OP_lit1; <error: DW_OP_0x01 at offset 1: unknown opcode>"},
		{cat(DW_OP_fbreg), "<error: DW_OP_fbreg at offset 0: expression ends inside an operation>"},
		{nil, ""},
	}
	for _, c := range cases {
		if got := Disassemble(c.expr); got != c.want {
			t.Errorf("Disassemble(% x) = %q, want %q", c.expr, got, c.want)
		}
	}
}

// TestLEB128Helpers checks the encoders the other tests build expressions
// with against the decoder the package reads them with.
func TestLEB128Helpers(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1 << 35, ^uint64(0)} {
		if got, n, err := dwarfbuf.ULEB128(uleb(v)); got != v || n != len(uleb(v)) || err != nil {
			t.Errorf("ULEB %d: got %d (%d bytes, %v)", v, got, n, err)
		}
	}
	for _, v := range []int64{0, -1, 63, -64, 64, -65, -24, 1 << 40, -1 << 63} {
		if got, n, err := dwarfbuf.SLEB128(sleb(v)); got != v || n != len(sleb(v)) || err != nil {
			t.Errorf("SLEB %d: got %d (%d bytes, %v)", v, got, n, err)
		}
	}
}

func TestRegisters(t *testing.T) {
	r := NewDwarfRegisters([]uint64{1, 2, 3}, []bool{true, false})
	if v, ok := r.Reg(0); !ok || v != 1 {
		t.Errorf("Reg(0) = %d, %v", v, ok)
	}
	if _, ok := r.Reg(1); ok {
		t.Errorf("Reg(1) present, was marked absent")
	}
	if _, ok := r.Reg(2); ok {
		t.Errorf("Reg(2) present beyond the mask")
	}
	r.AddReg(40, 7)
	if v, ok := r.Reg(40); !ok || v != 7 {
		t.Errorf("Reg(40) after AddReg = %d, %v", v, ok)
	}
	r.AddReg(1<<40, 1) // must not allocate a huge table
	if _, ok := r.Reg(1 << 40); ok {
		t.Errorf("absurd register number accepted")
	}
	var nilRegs *DwarfRegisters
	if _, ok := nilRegs.Reg(0); ok {
		t.Errorf("nil registers report a value")
	}
}

func BenchmarkExecuteFbreg(b *testing.B) {
	expr, regs := cat(DW_OP_fbreg, sleb(-24)), testRegs()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Execute(expr, regs, nil, 8); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExecuteStringPieces(b *testing.B) {
	expr, regs := cat(DW_OP_reg0, DW_OP_piece, uleb(8), DW_OP_reg0+3, DW_OP_piece, uleb(8)), testRegs()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Execute(expr, regs, nil, 8); err != nil {
			b.Fatal(err)
		}
	}
}
