// Package op evaluates DWARF location expressions (DWARF 4 and 5, section 2.5
// and 2.6) as emitted by the Go compiler and by gcc for cgo code, and prints
// them for humans.
//
// An expression is run against a DwarfRegisters (register values, CFA and
// frame base) and a MemoryReader; the result is a Location that says where
// a variable lives: one memory address, or a list of pieces each held in
// memory, in a register, as a computed value or as literal bytes.
package op

import "fmt"

// Opcode is one DWARF expression operation (a DW_OP_* constant).
type Opcode byte

// DWARF expression opcodes (DWARF 5, section 7.7.1) and the GNU extensions
// that gcc emits.
const (
	DW_OP_addr                 Opcode = 0x03
	DW_OP_deref                Opcode = 0x06
	DW_OP_const1u              Opcode = 0x08
	DW_OP_const1s              Opcode = 0x09
	DW_OP_const2u              Opcode = 0x0a
	DW_OP_const2s              Opcode = 0x0b
	DW_OP_const4u              Opcode = 0x0c
	DW_OP_const4s              Opcode = 0x0d
	DW_OP_const8u              Opcode = 0x0e
	DW_OP_const8s              Opcode = 0x0f
	DW_OP_constu               Opcode = 0x10
	DW_OP_consts               Opcode = 0x11
	DW_OP_dup                  Opcode = 0x12
	DW_OP_drop                 Opcode = 0x13
	DW_OP_over                 Opcode = 0x14
	DW_OP_pick                 Opcode = 0x15
	DW_OP_swap                 Opcode = 0x16
	DW_OP_rot                  Opcode = 0x17
	DW_OP_xderef               Opcode = 0x18
	DW_OP_abs                  Opcode = 0x19
	DW_OP_and                  Opcode = 0x1a
	DW_OP_div                  Opcode = 0x1b
	DW_OP_minus                Opcode = 0x1c
	DW_OP_mod                  Opcode = 0x1d
	DW_OP_mul                  Opcode = 0x1e
	DW_OP_neg                  Opcode = 0x1f
	DW_OP_not                  Opcode = 0x20
	DW_OP_or                   Opcode = 0x21
	DW_OP_plus                 Opcode = 0x22
	DW_OP_plus_uconst          Opcode = 0x23
	DW_OP_shl                  Opcode = 0x24
	DW_OP_shr                  Opcode = 0x25
	DW_OP_shra                 Opcode = 0x26
	DW_OP_xor                  Opcode = 0x27
	DW_OP_bra                  Opcode = 0x28
	DW_OP_eq                   Opcode = 0x29
	DW_OP_ge                   Opcode = 0x2a
	DW_OP_gt                   Opcode = 0x2b
	DW_OP_le                   Opcode = 0x2c
	DW_OP_lt                   Opcode = 0x2d
	DW_OP_ne                   Opcode = 0x2e
	DW_OP_skip                 Opcode = 0x2f
	DW_OP_lit0                 Opcode = 0x30
	DW_OP_lit1                 Opcode = 0x31
	DW_OP_lit2                 Opcode = 0x32
	DW_OP_lit3                 Opcode = 0x33
	DW_OP_lit4                 Opcode = 0x34
	DW_OP_lit5                 Opcode = 0x35
	DW_OP_lit6                 Opcode = 0x36
	DW_OP_lit7                 Opcode = 0x37
	DW_OP_lit8                 Opcode = 0x38
	DW_OP_lit9                 Opcode = 0x39
	DW_OP_lit10                Opcode = 0x3a
	DW_OP_lit11                Opcode = 0x3b
	DW_OP_lit12                Opcode = 0x3c
	DW_OP_lit13                Opcode = 0x3d
	DW_OP_lit14                Opcode = 0x3e
	DW_OP_lit15                Opcode = 0x3f
	DW_OP_lit16                Opcode = 0x40
	DW_OP_lit17                Opcode = 0x41
	DW_OP_lit18                Opcode = 0x42
	DW_OP_lit19                Opcode = 0x43
	DW_OP_lit20                Opcode = 0x44
	DW_OP_lit21                Opcode = 0x45
	DW_OP_lit22                Opcode = 0x46
	DW_OP_lit23                Opcode = 0x47
	DW_OP_lit24                Opcode = 0x48
	DW_OP_lit25                Opcode = 0x49
	DW_OP_lit26                Opcode = 0x4a
	DW_OP_lit27                Opcode = 0x4b
	DW_OP_lit28                Opcode = 0x4c
	DW_OP_lit29                Opcode = 0x4d
	DW_OP_lit30                Opcode = 0x4e
	DW_OP_lit31                Opcode = 0x4f
	DW_OP_reg0                 Opcode = 0x50
	DW_OP_reg31                Opcode = 0x6f
	DW_OP_breg0                Opcode = 0x70
	DW_OP_breg31               Opcode = 0x8f
	DW_OP_regx                 Opcode = 0x90
	DW_OP_fbreg                Opcode = 0x91
	DW_OP_bregx                Opcode = 0x92
	DW_OP_piece                Opcode = 0x93
	DW_OP_deref_size           Opcode = 0x94
	DW_OP_xderef_size          Opcode = 0x95
	DW_OP_nop                  Opcode = 0x96
	DW_OP_push_object_address  Opcode = 0x97
	DW_OP_call2                Opcode = 0x98
	DW_OP_call4                Opcode = 0x99
	DW_OP_call_ref             Opcode = 0x9a
	DW_OP_form_tls_address     Opcode = 0x9b
	DW_OP_call_frame_cfa       Opcode = 0x9c
	DW_OP_bit_piece            Opcode = 0x9d
	DW_OP_implicit_value       Opcode = 0x9e
	DW_OP_stack_value          Opcode = 0x9f
	DW_OP_implicit_pointer     Opcode = 0xa0
	DW_OP_addrx                Opcode = 0xa1
	DW_OP_constx               Opcode = 0xa2
	DW_OP_entry_value          Opcode = 0xa3
	DW_OP_const_type           Opcode = 0xa4
	DW_OP_regval_type          Opcode = 0xa5
	DW_OP_deref_type           Opcode = 0xa6
	DW_OP_xderef_type          Opcode = 0xa7
	DW_OP_convert              Opcode = 0xa8
	DW_OP_reinterpret          Opcode = 0xa9
	DW_OP_GNU_push_tls_address Opcode = 0xe0
	DW_OP_GNU_uninit           Opcode = 0xf0
	DW_OP_GNU_implicit_pointer Opcode = 0xf2
	DW_OP_GNU_entry_value      Opcode = 0xf3
	DW_OP_GNU_parameter_ref    Opcode = 0xfa
	DW_OP_GNU_addr_index       Opcode = 0xfb
	DW_OP_GNU_const_index      Opcode = 0xfc
)

// operandKind says how the bytes after an opcode are encoded.
type operandKind uint8

const (
	argNone        operandKind = iota
	argU1                      // 1-byte unsigned
	argS1                      // 1-byte signed
	argU2                      // 2-byte unsigned
	argS2                      // 2-byte signed
	argU4                      // 4-byte unsigned
	argS4                      // 4-byte signed
	argU8                      // 8-byte unsigned
	argS8                      // 8-byte signed
	argAddr                    // target address, ptrSize bytes
	argULEB                    // unsigned LEB128
	argSLEB                    // signed LEB128
	argULEBSLEB                // unsigned LEB128 then signed LEB128 (bregx)
	argULEBULEB                // two unsigned LEB128 (bit_piece, regval_type)
	argBlock                   // unsigned LEB128 length then that many bytes
	argU1ULEB                  // 1-byte size then unsigned LEB128 (deref_type)
	argULEBU1Block             // type offset, 1-byte size, bytes (const_type)
	argRefSLEB                 // 4-byte DIE offset then signed LEB128 (implicit_pointer)
)

// opInfo names an opcode and says how its operands are encoded.
type opInfo struct {
	name string
	args operandKind
}

// opTable describes every opcode this package can decode; opcodes missing
// here are reported as ErrUnknownOpcode.
var opTable = map[Opcode]opInfo{
	DW_OP_addr:                 {"DW_OP_addr", argAddr},
	DW_OP_deref:                {"DW_OP_deref", argNone},
	DW_OP_const1u:              {"DW_OP_const1u", argU1},
	DW_OP_const1s:              {"DW_OP_const1s", argS1},
	DW_OP_const2u:              {"DW_OP_const2u", argU2},
	DW_OP_const2s:              {"DW_OP_const2s", argS2},
	DW_OP_const4u:              {"DW_OP_const4u", argU4},
	DW_OP_const4s:              {"DW_OP_const4s", argS4},
	DW_OP_const8u:              {"DW_OP_const8u", argU8},
	DW_OP_const8s:              {"DW_OP_const8s", argS8},
	DW_OP_constu:               {"DW_OP_constu", argULEB},
	DW_OP_consts:               {"DW_OP_consts", argSLEB},
	DW_OP_dup:                  {"DW_OP_dup", argNone},
	DW_OP_drop:                 {"DW_OP_drop", argNone},
	DW_OP_over:                 {"DW_OP_over", argNone},
	DW_OP_pick:                 {"DW_OP_pick", argU1},
	DW_OP_swap:                 {"DW_OP_swap", argNone},
	DW_OP_rot:                  {"DW_OP_rot", argNone},
	DW_OP_xderef:               {"DW_OP_xderef", argNone},
	DW_OP_abs:                  {"DW_OP_abs", argNone},
	DW_OP_and:                  {"DW_OP_and", argNone},
	DW_OP_div:                  {"DW_OP_div", argNone},
	DW_OP_minus:                {"DW_OP_minus", argNone},
	DW_OP_mod:                  {"DW_OP_mod", argNone},
	DW_OP_mul:                  {"DW_OP_mul", argNone},
	DW_OP_neg:                  {"DW_OP_neg", argNone},
	DW_OP_not:                  {"DW_OP_not", argNone},
	DW_OP_or:                   {"DW_OP_or", argNone},
	DW_OP_plus:                 {"DW_OP_plus", argNone},
	DW_OP_plus_uconst:          {"DW_OP_plus_uconst", argULEB},
	DW_OP_shl:                  {"DW_OP_shl", argNone},
	DW_OP_shr:                  {"DW_OP_shr", argNone},
	DW_OP_shra:                 {"DW_OP_shra", argNone},
	DW_OP_xor:                  {"DW_OP_xor", argNone},
	DW_OP_bra:                  {"DW_OP_bra", argS2},
	DW_OP_eq:                   {"DW_OP_eq", argNone},
	DW_OP_ge:                   {"DW_OP_ge", argNone},
	DW_OP_gt:                   {"DW_OP_gt", argNone},
	DW_OP_le:                   {"DW_OP_le", argNone},
	DW_OP_lt:                   {"DW_OP_lt", argNone},
	DW_OP_ne:                   {"DW_OP_ne", argNone},
	DW_OP_skip:                 {"DW_OP_skip", argS2},
	DW_OP_regx:                 {"DW_OP_regx", argULEB},
	DW_OP_fbreg:                {"DW_OP_fbreg", argSLEB},
	DW_OP_bregx:                {"DW_OP_bregx", argULEBSLEB},
	DW_OP_piece:                {"DW_OP_piece", argULEB},
	DW_OP_deref_size:           {"DW_OP_deref_size", argU1},
	DW_OP_xderef_size:          {"DW_OP_xderef_size", argU1},
	DW_OP_nop:                  {"DW_OP_nop", argNone},
	DW_OP_push_object_address:  {"DW_OP_push_object_address", argNone},
	DW_OP_call2:                {"DW_OP_call2", argU2},
	DW_OP_call4:                {"DW_OP_call4", argU4},
	DW_OP_call_ref:             {"DW_OP_call_ref", argU4},
	DW_OP_form_tls_address:     {"DW_OP_form_tls_address", argNone},
	DW_OP_call_frame_cfa:       {"DW_OP_call_frame_cfa", argNone},
	DW_OP_bit_piece:            {"DW_OP_bit_piece", argULEBULEB},
	DW_OP_implicit_value:       {"DW_OP_implicit_value", argBlock},
	DW_OP_stack_value:          {"DW_OP_stack_value", argNone},
	DW_OP_implicit_pointer:     {"DW_OP_implicit_pointer", argRefSLEB},
	DW_OP_addrx:                {"DW_OP_addrx", argULEB},
	DW_OP_constx:               {"DW_OP_constx", argULEB},
	DW_OP_entry_value:          {"DW_OP_entry_value", argBlock},
	DW_OP_const_type:           {"DW_OP_const_type", argULEBU1Block},
	DW_OP_regval_type:          {"DW_OP_regval_type", argULEBULEB},
	DW_OP_deref_type:           {"DW_OP_deref_type", argU1ULEB},
	DW_OP_xderef_type:          {"DW_OP_xderef_type", argU1ULEB},
	DW_OP_convert:              {"DW_OP_convert", argULEB},
	DW_OP_reinterpret:          {"DW_OP_reinterpret", argULEB},
	DW_OP_GNU_push_tls_address: {"DW_OP_GNU_push_tls_address", argNone},
	DW_OP_GNU_uninit:           {"DW_OP_GNU_uninit", argNone},
	DW_OP_GNU_implicit_pointer: {"DW_OP_GNU_implicit_pointer", argRefSLEB},
	DW_OP_GNU_entry_value:      {"DW_OP_GNU_entry_value", argBlock},
	DW_OP_GNU_parameter_ref:    {"DW_OP_GNU_parameter_ref", argU4},
	DW_OP_GNU_addr_index:       {"DW_OP_GNU_addr_index", argULEB},
	DW_OP_GNU_const_index:      {"DW_OP_GNU_const_index", argULEB},
}

// decodeTable is opTable plus the lit, reg and breg families, indexed by
// opcode so that decoding does no map lookup or formatting.
var decodeTable = func() (t [256]opInfo) {
	for op, i := range opTable {
		t[op] = i
	}
	for n := 0; n < 32; n++ {
		t[int(DW_OP_lit0)+n] = opInfo{fmt.Sprintf("DW_OP_lit%d", n), argNone}
		t[int(DW_OP_reg0)+n] = opInfo{fmt.Sprintf("DW_OP_reg%d", n), argNone}
		t[int(DW_OP_breg0)+n] = opInfo{fmt.Sprintf("DW_OP_breg%d", n), argSLEB}
	}
	return t
}()

// info returns the decoding rule of op; ok is false for unknown opcodes.
func info(op Opcode) (opInfo, bool) {
	i := decodeTable[op]
	return i, i.name != ""
}

// String returns the DWARF name of the opcode, or "DW_OP_0x.." if unknown.
func (op Opcode) String() string {
	if i, ok := info(op); ok {
		return i.name
	}
	return fmt.Sprintf("DW_OP_%#02x", byte(op))
}
