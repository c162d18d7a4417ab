package frame

import (
	"fmt"
	"maps"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
)

// RuleKind says how a caller's register is recovered (DWARF 5, 6.4.1).
type RuleKind uint8

// Register rule kinds. The zero value is RuleUndefined.
const (
	RuleUndefined     RuleKind = iota // the caller's value is not recoverable (e.g. outermost frame)
	RuleSameValue                     // the caller's value is the current value of the register
	RuleOffset                        // the value is saved in memory at CFA+Offset
	RuleValOffset                     // the value is CFA+Offset itself
	RuleRegister                      // the value is in register Reg
	RuleExpression                    // the value is saved at the address Expr computes (CFA pushed first)
	RuleValExpression                 // the value is what Expr computes (CFA pushed first)
)

var ruleKindNames = [...]string{"undefined", "same_value", "offset", "val_offset", "register", "expression", "val_expression"}

// String returns the DWARF name of the rule kind.
func (k RuleKind) String() string {
	if int(k) < len(ruleKindNames) {
		return ruleKindNames[k]
	}
	return fmt.Sprintf("RuleKind(%d)", uint8(k))
}

// Rule recovers one register of the caller.
type Rule struct {
	Kind   RuleKind
	Offset int64  // for RuleOffset and RuleValOffset: bytes from the CFA (already scaled by DataAlign)
	Reg    uint64 // for RuleRegister: DWARF register number holding the value
	Expr   []byte // for RuleExpression and RuleValExpression: a DWARF expression
}

// CFARule computes the canonical frame address: Reg+Offset, or Expr when
// Expr is non-nil (DW_CFA_def_cfa_expression).
type CFARule struct {
	Reg    uint64 // DWARF register number (7 is RSP on amd64)
	Offset int64  // bytes added to Reg
	Expr   []byte // a DWARF expression computing the CFA, nil for Reg+Offset
}

// Rules is one row of the CFI table: how to unwind at a given address.
type Rules struct {
	Loc        uint64          // static address where this row starts (<= the queried pc)
	CFA        CFARule         // how to compute the CFA
	Regs       map[uint64]Rule // by DWARF register number; absent means no rule was given
	RetAddrReg uint64          // the column holding the return address (the CIE's)
	ArgsSize   uint64          // DW_CFA_GNU_args_size: bytes of outgoing arguments pushed
}

// Call frame instruction opcodes (DW_CFA_*).
const (
	cfaAdvanceLoc         = 0x40 // high two bits
	cfaOffset             = 0x80 // high two bits
	cfaRestore            = 0xc0 // high two bits
	cfaNop                = 0x00
	cfaSetLoc             = 0x01
	cfaAdvanceLoc1        = 0x02
	cfaAdvanceLoc2        = 0x03
	cfaAdvanceLoc4        = 0x04
	cfaOffsetExtended     = 0x05
	cfaRestoreExtended    = 0x06
	cfaUndefined          = 0x07
	cfaSameValue          = 0x08
	cfaRegister           = 0x09
	cfaRememberState      = 0x0a
	cfaRestoreState       = 0x0b
	cfaDefCFA             = 0x0c
	cfaDefCFARegister     = 0x0d
	cfaDefCFAOffset       = 0x0e
	cfaDefCFAExpression   = 0x0f
	cfaExpression         = 0x10
	cfaOffsetExtendedSF   = 0x11
	cfaDefCFASF           = 0x12
	cfaDefCFAOffsetSF     = 0x13
	cfaValOffset          = 0x14
	cfaValOffsetSF        = 0x15
	cfaValExpression      = 0x16
	cfaMIPSAdvanceLoc8    = 0x1d
	cfaGNUWindowSave      = 0x2d
	cfaGNUArgsSize        = 0x2e
	cfaGNUNegOffsetExtend = 0x2f
)

// maxStateDepth bounds DW_CFA_remember_state nesting so hostile input cannot
// make RulesAt copy register sets without limit; compilers nest one or two.
const maxStateDepth = 256

// row is the mutable state of the CFI interpreter.
type row struct {
	cfa    CFARule
	cfaSet bool
	regs   map[uint64]Rule
}

func (r row) clone() row {
	r.regs = maps.Clone(r.regs)
	return r
}

// interp executes call frame instructions up to a target address.
type interp struct {
	t        *Table
	cie      *CIE
	target   uint64
	loc      uint64
	cur      row
	initial  map[uint64]Rule // register rules after the CIE's initial instructions
	stack    []row
	argsSize uint64
	done     bool // an advance went past target: later instructions do not apply
}

// RulesAt returns the row in effect at the static address pc, executing the
// CIE's initial instructions and then this FDE's instructions up to and
// including those for pc. pc outside [Begin, End) yields a *NoFDEError.
func (f *FDE) RulesAt(pc uint64) (*Rules, error) {
	if !f.Contains(pc) {
		return nil, &NoFDEError{PC: pc}
	}
	in := &interp{
		t:      f.table,
		cie:    f.CIE,
		target: pc,
		loc:    f.begin,
		cur:    row{regs: make(map[uint64]Rule)},
	}
	if err := in.run(f.CIE.initial, f.CIE.initialStart, true); err != nil {
		return nil, err
	}
	in.initial = maps.Clone(in.cur.regs)
	if err := in.run(f.insns, f.insnBase, false); err != nil {
		return nil, err
	}
	if !in.cur.cfaSet {
		return nil, &dwarfbuf.DecodeError{Name: sectionName(f.table.ehFrame), Offset: f.Offset, Err: fmt.Errorf("%w: no CFA rule at pc %#x", ErrMalformed, pc)}
	}
	return &Rules{
		Loc:        in.loc,
		CFA:        in.cur.cfa,
		Regs:       in.cur.regs,
		RetAddrReg: f.CIE.RetAddrReg,
		ArgsSize:   in.argsSize,
	}, nil
}

// advance moves the row's location by delta code units, or stops the
// interpreter when that would pass the target address.
func (in *interp) advance(delta uint64) {
	in.moveTo(in.loc + delta*in.cie.CodeAlign)
}

func (in *interp) moveTo(loc uint64) {
	if loc > in.target {
		in.done = true
		return
	}
	in.loc = loc
}

// run executes instructions (located at section offset base) until they end
// or an advance passes the target.
func (in *interp) run(insns []byte, base uint64, inCIE bool) error {
	buf := dwarfbuf.New(sectionName(in.t.ehFrame), base, insns, in.t.order)
	r := &buf
	for r.Len() > 0 && !in.done && r.Err() == nil {
		at := r.Off()
		op := r.Uint8("CFA opcode")
		switch op & 0xc0 {
		case cfaAdvanceLoc:
			in.advance(uint64(op & 0x3f))
			continue
		case cfaOffset:
			in.setReg(uint64(op&0x3f), Rule{Kind: RuleOffset, Offset: int64(r.ULEB128("offset")) * in.cie.DataAlign})
			continue
		case cfaRestore:
			in.restore(uint64(op&0x3f), inCIE)
			continue
		}
		if err := in.extended(r, op, at, inCIE); err != nil {
			return err
		}
	}
	return r.Err()
}

// extended executes one instruction whose opcode is in the low range.
func (in *interp) extended(r *dwarfbuf.Buf, op uint8, at uint64, inCIE bool) error {
	da := in.cie.DataAlign
	switch op {
	case cfaNop:
	case cfaSetLoc:
		var loc uint64
		if in.t.ehFrame {
			loc = in.t.readEncoded(r, in.cie.FDEEncoding, false, "set_loc address")
		} else {
			loc = r.UintN(int(in.cie.AddressSize), "set_loc address")
		}
		if r.Err() == nil {
			in.moveTo(loc)
		}
	case cfaAdvanceLoc1:
		in.advanceIfOK(r, uint64(r.Uint8("advance_loc1 delta")))
	case cfaAdvanceLoc2:
		in.advanceIfOK(r, uint64(r.Uint16("advance_loc2 delta")))
	case cfaAdvanceLoc4:
		in.advanceIfOK(r, uint64(r.Uint32("advance_loc4 delta")))
	case cfaMIPSAdvanceLoc8:
		in.advanceIfOK(r, r.Uint64("advance_loc8 delta"))
	case cfaOffsetExtended:
		reg := r.ULEB128("register")
		in.setReg(reg, Rule{Kind: RuleOffset, Offset: int64(r.ULEB128("offset")) * da})
	case cfaOffsetExtendedSF:
		reg := r.ULEB128("register")
		in.setReg(reg, Rule{Kind: RuleOffset, Offset: r.SLEB128("offset") * da})
	case cfaGNUNegOffsetExtend:
		reg := r.ULEB128("register")
		in.setReg(reg, Rule{Kind: RuleOffset, Offset: -int64(r.ULEB128("offset")) * da})
	case cfaValOffset:
		reg := r.ULEB128("register")
		in.setReg(reg, Rule{Kind: RuleValOffset, Offset: int64(r.ULEB128("offset")) * da})
	case cfaValOffsetSF:
		reg := r.ULEB128("register")
		in.setReg(reg, Rule{Kind: RuleValOffset, Offset: r.SLEB128("offset") * da})
	case cfaRestoreExtended:
		reg := r.ULEB128("register")
		if r.Err() == nil {
			in.restore(reg, inCIE)
		}
	case cfaUndefined:
		in.setReg(r.ULEB128("register"), Rule{Kind: RuleUndefined})
	case cfaSameValue:
		in.setReg(r.ULEB128("register"), Rule{Kind: RuleSameValue})
	case cfaRegister:
		reg := r.ULEB128("register")
		in.setReg(reg, Rule{Kind: RuleRegister, Reg: r.ULEB128("source register")})
	case cfaExpression:
		reg := r.ULEB128("register")
		in.setReg(reg, Rule{Kind: RuleExpression, Expr: r.Block("expression")})
	case cfaValExpression:
		reg := r.ULEB128("register")
		in.setReg(reg, Rule{Kind: RuleValExpression, Expr: r.Block("expression")})
	case cfaRememberState:
		if len(in.stack) >= maxStateDepth {
			return in.errAt(at, ErrMalformed, "remember_state nested deeper than %d", maxStateDepth)
		}
		in.stack = append(in.stack, in.cur.clone())
	case cfaRestoreState:
		if len(in.stack) == 0 {
			return in.errAt(at, ErrMalformed, "restore_state without remember_state")
		}
		in.cur = in.stack[len(in.stack)-1]
		in.stack = in.stack[:len(in.stack)-1]
	case cfaDefCFA:
		reg := r.ULEB128("register")
		in.setCFA(r, CFARule{Reg: reg, Offset: int64(r.ULEB128("offset"))})
	case cfaDefCFASF:
		reg := r.ULEB128("register")
		in.setCFA(r, CFARule{Reg: reg, Offset: r.SLEB128("offset") * da})
	case cfaDefCFARegister:
		reg := r.ULEB128("register")
		if err := in.needRegCFA(at, "def_cfa_register"); err != nil {
			return err
		}
		in.setCFA(r, CFARule{Reg: reg, Offset: in.cur.cfa.Offset})
	case cfaDefCFAOffset:
		off := int64(r.ULEB128("offset"))
		if err := in.needRegCFA(at, "def_cfa_offset"); err != nil {
			return err
		}
		in.setCFA(r, CFARule{Reg: in.cur.cfa.Reg, Offset: off})
	case cfaDefCFAOffsetSF:
		off := r.SLEB128("offset") * da
		if err := in.needRegCFA(at, "def_cfa_offset_sf"); err != nil {
			return err
		}
		in.setCFA(r, CFARule{Reg: in.cur.cfa.Reg, Offset: off})
	case cfaDefCFAExpression:
		expr := r.Block("CFA expression")
		if expr == nil && r.Err() == nil {
			expr = []byte{} // an empty expression is still an expression rule
		}
		in.setCFA(r, CFARule{Expr: expr})
	case cfaGNUArgsSize:
		in.argsSize = r.ULEB128("args size")
	case cfaGNUWindowSave:
		// SPARC register windows / AArch64 return-address signing: no
		// effect on amd64 rules, so accepted and ignored.
	default:
		return in.errAt(at, ErrUnsupported, "DW_CFA opcode %#x", op)
	}
	return r.Err()
}

func (in *interp) advanceIfOK(r *dwarfbuf.Buf, delta uint64) {
	if r.Err() == nil {
		in.advance(delta)
	}
}

func (in *interp) setReg(reg uint64, rule Rule) {
	in.cur.regs[reg] = rule
}

// restore resets a register to its rule after the CIE's initial
// instructions; inside the CIE itself there is nothing to go back to.
func (in *interp) restore(reg uint64, inCIE bool) {
	if rule, ok := in.initial[reg]; ok && !inCIE {
		in.cur.regs[reg] = rule
		return
	}
	delete(in.cur.regs, reg)
}

func (in *interp) setCFA(r *dwarfbuf.Buf, rule CFARule) {
	if r.Err() != nil {
		return
	}
	in.cur.cfa = rule
	in.cur.cfaSet = true
}

// needRegCFA checks that the CFA is register-based, which the DWARF spec
// requires before def_cfa_register and def_cfa_offset may modify it.
func (in *interp) needRegCFA(at uint64, op string) error {
	if !in.cur.cfaSet || in.cur.cfa.Expr != nil {
		return in.errAt(at, ErrMalformed, "%s while the CFA is not register+offset", op)
	}
	return nil
}

func (in *interp) errAt(at uint64, kind error, format string, args ...any) error {
	return &dwarfbuf.DecodeError{Name: sectionName(in.t.ehFrame), Offset: at, Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)}
}
