package cond

import (
	"go/constant"
	"go/token"
	"reflect"

	"github.com/cilium/ebpf/asm"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

const asm0 = asm.R0

func jeqZero(l string) asm.Instruction { return asm.JEq.Imm(asm0, 0, l) }

// operand is the compile-time view of a subexpression's value: an untyped
// constant or nil (typ nil), a typed constant (a named constant), a value
// computed into a slot, or a typed value at a place.
type operand struct {
	name  string
	typ   godwarf.Type
	konst constant.Value
	isNil bool
	// untypedBool: a comparison's or logical operator's result, untyped
	// for the evaluator (it unifies as an untyped bool), computed in slot.
	untypedBool bool
	slot        int // > 0: computed, the normalized value is in this slot
	pl          *place
}

func (o *operand) computed() bool { return o.slot > 0 }

// isConst reports an untyped constant (not nil, not a computed bool).
func (o *operand) isConst() bool { return o.typ == nil && o.konst != nil && !o.untypedBool }

// isUntyped reports what the evaluator sees as a value without a type.
func (o *operand) isUntyped() bool { return o.typ == nil }

func (o *operand) typeName() string {
	switch {
	case o.isNil:
		return "nil"
	case o.untypedBool:
		return "untyped bool"
	case o.typ == nil:
		return "untyped constant"
	}
	return value.TypeName(o.typ)
}

// store keeps r in a new value slot and returns the slot.
func (c *compiler) store(r asm.Register) (int, error) {
	s, err := c.slot()
	if err != nil {
		return 0, err
	}
	c.emit(asm.StoreMem(asm.R10, slotOff(s), r, asm.DWord))
	return s, nil
}

// computedOf stores R0 as a new computed operand of type typ.
func (c *compiler) computedOf(typ godwarf.Type) (*operand, error) {
	s, err := c.store(asm0)
	if err != nil {
		return nil, err
	}
	return &operand{typ: typ, slot: s}, nil
}

func (c *compiler) untypedBoolOf() (*operand, error) {
	s, err := c.store(asm0)
	if err != nil {
		return nil, err
	}
	return &operand{untypedBool: true, slot: s}, nil
}

func isFloatish(k reflect.Kind) bool {
	switch k {
	case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	}
	return false
}

// isWord reports types whose value is one address word: pointers, maps,
// chans, funcs (the evaluator compares them by address).
func isWord(t godwarf.Type) bool {
	switch godwarf.ResolveTypedef(t).(type) {
	case *godwarf.PtrType, *godwarf.MapType, *godwarf.ChanType, *godwarf.FuncType:
		return true
	}
	return false
}

func isString(t godwarf.Type) bool {
	_, ok := godwarf.ResolveTypedef(t).(*godwarf.StringType)
	return ok
}

// wrapConst reduces an integer constant to what a variable of basic type
// b holds, in the normalized 64-bit form, as the evaluator's conversions
// wrap.
func wrapConst(c constant.Value, b *godwarf.BasicType) (uint64, bool) {
	i := constant.ToInt(c)
	if i.Kind() != constant.Int {
		return 0, false
	}
	var u uint64
	if v, ok := constant.Uint64Val(i); ok {
		u = v
	} else if v, ok := constant.Int64Val(i); ok {
		u = uint64(v)
	} else {
		// Beyond 64 bits: the low 64 bits, as the evaluator keeps.
		m := constant.BinaryOp(i, token.AND, constant.MakeUint64(^uint64(0)))
		u, _ = constant.Uint64Val(m)
	}
	return extend(u, int(b.Size()), godwarf.IsSignedKind(b.Kind)), true
}

// constFor converts an untyped constant operand to the immediate of type
// typ, or fails as the evaluator's conversion would.
func constFor(o *operand, typ godwarf.Type) (uint64, error) {
	c := o.konst
	if o.isNil {
		return 0, nil
	}
	b := godwarf.Basic(typ)
	if b == nil {
		return 0, notCompilable("can not convert %s constant to %s", c, value.TypeName(typ))
	}
	switch {
	case godwarf.IsIntegerKind(b.Kind):
		u, ok := wrapConst(c, b)
		if !ok {
			return 0, notCompilable("can not convert %s constant to %s", c, value.TypeName(typ))
		}
		return u, nil
	case b.Kind == reflect.Bool && c.Kind() == constant.Bool:
		if constant.BoolVal(c) {
			return 1, nil
		}
		return 0, nil
	case isFloatish(b.Kind):
		return 0, notCompilable("floating-point value")
	}
	return 0, notCompilable("can not convert %s constant to %s", c, value.TypeName(typ))
}

// scalarInfo says how a typed scalar is loaded: size and signedness.
func scalarInfo(t godwarf.Type) (size int, signed bool, err error) {
	if isWord(t) {
		return 8, false, nil
	}
	b := godwarf.Basic(t)
	if b == nil {
		return 0, false, notCompilable("%s is not a scalar value", value.TypeName(t))
	}
	if isFloatish(b.Kind) {
		return 0, false, notCompilable("floating-point value")
	}
	return int(b.Size()), godwarf.IsSignedKind(b.Kind), nil
}

// toReg loads the normalized 64-bit value of o into dst (R0, R7 or R8;
// R1-R5 are clobbered). as is the type an untyped constant takes.
func (c *compiler) toReg(o *operand, as godwarf.Type, dst asm.Register) error {
	switch {
	case o.computed():
		c.emit(asm.LoadMem(dst, asm.R10, slotOff(o.slot), asm.DWord))
		return nil
	case o.konst != nil:
		var u uint64
		if o.typ != nil {
			b := godwarf.Basic(o.typ)
			if b == nil {
				return notCompilable("constant of type %s", value.TypeName(o.typ))
			}
			v, ok := wrapConst(o.konst, b)
			if !ok {
				return notCompilable("constant %s", o.konst)
			}
			u = v
		} else {
			if as == nil {
				return notCompilable("untyped constant without a type")
			}
			v, err := constFor(o, as)
			if err != nil {
				return err
			}
			u = v
		}
		c.emit(asm.LoadImm(dst, int64(u), asm.DWord))
		return nil
	case o.pl != nil:
		n, signed, err := scalarInfo(o.typ)
		if err != nil {
			return err
		}
		if err := c.loadWord(o.pl, 0, n, signed, dst); err != nil {
			return err
		}
		if b := godwarf.Basic(o.typ); b != nil && b.Kind == reflect.Bool {
			c.boolify(dst)
		}
		return nil
	}
	return notCompilable("internal: operand without a value")
}

// pair loads x into R0 and y into R1.
func (c *compiler) pair(x, y *operand, typ godwarf.Type) error {
	if err := c.toReg(x, typ, asm.R7); err != nil {
		return err
	}
	if err := c.toReg(y, typ, asm0); err != nil {
		return err
	}
	c.emit(asm.Mov.Reg(asm.R1, asm0), asm.Mov.Reg(asm0, asm.R7))
	return nil
}

// boolToR0 loads the final result into R0, which must be a bool.
func (c *compiler) boolToR0(o *operand) error {
	switch {
	case o.untypedBool:
		return c.toReg(o, nil, asm0)
	case o.isConst():
		if o.konst.Kind() != constant.Bool {
			return notCompilable("condition is not a boolean")
		}
		v := int32(ResultFalse)
		if constant.BoolVal(o.konst) {
			v = ResultTrue
		}
		c.emit(asm.Mov.Imm(asm0, v))
		return nil
	case o.typ != nil:
		if b := godwarf.Basic(o.typ); b != nil && b.Kind == reflect.Bool {
			return c.toReg(o, nil, asm0)
		}
	}
	return notCompilable("condition is not a boolean")
}
