package cond

import (
	"go/ast"
	"go/constant"
	"reflect"

	"github.com/cilium/ebpf/asm"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// index compiles x[i] of arrays, slices and strings, bounds-checked at
// run time where the evaluator checks (out of range is a fault).
func (c *compiler) index(e *ast.IndexExpr) (*operand, error) {
	x, err := c.expr(e.X)
	if err != nil {
		return nil, err
	}
	if x.typ == nil {
		return nil, notCompilable("expression %s does not support indexing", x.typeName())
	}
	if _, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.MapType); ok {
		return nil, notCompilable("map index")
	}
	if pt, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.PtrType); ok {
		if _, isArr := godwarf.ResolveTypedef(pt.Elem).(*godwarf.ArrayType); isArr {
			if x, err = c.deref(x); err != nil {
				return nil, err
			}
		}
	}
	idx, err := c.expr(e.Index)
	if err != nil {
		return nil, err
	}
	if x.pl == nil {
		return nil, notCompilable("index of a computed value")
	}
	if idx.konst == nil || idx.computed() {
		return c.varIndex(x, idx)
	}
	k := constant.ToInt(idx.konst)
	i, ok := constant.Int64Val(k)
	if k.Kind() != constant.Int || !ok || i < 0 {
		return nil, notCompilable("index out of bounds")
	}
	if x.pl == nil {
		return nil, notCompilable("index of a computed value")
	}
	switch t := godwarf.ResolveTypedef(x.typ).(type) {
	case *godwarf.ArrayType:
		if i >= t.Count {
			return nil, notCompilable("index out of bounds")
		}
		return &operand{name: x.name, typ: t.Elem, pl: x.pl.at(i * t.Stride)}, nil
	case *godwarf.SliceType:
		if err := c.sliceHeader(x.pl); err != nil {
			return nil, err
		}
		c.faultIf(func(l string) asm.Instruction { return asm.JSLE.Imm(asm.R7, int32(min(i, 1<<30)), l) })
		s, err := c.wordSlot(x.pl, 0)
		if err != nil {
			return nil, err
		}
		return &operand{name: x.name, typ: t.Elem, pl: &place{kind: inPtr, slot: s, off: i * t.Elem.Size()}}, nil
	case *godwarf.StringType:
		if err := c.stringLen(x.pl, asm.R7); err != nil {
			return nil, err
		}
		c.faultIf(func(l string) asm.Instruction { return asm.JSLE.Imm(asm.R7, int32(min(i, 1<<30)), l) })
		s, err := c.wordSlot(x.pl, 0)
		if err != nil {
			return nil, err
		}
		u8 := c.basicType("uint8", reflect.Uint8, 1)
		if err := c.loadWord(&place{kind: inPtr, slot: s, off: i}, 0, 1, false, asm0); err != nil {
			return nil, err
		}
		return c.computedOf(u8)
	}
	return nil, notCompilable("expression %s (%s) does not support indexing", x.name, x.typeName())
}

// varIndex compiles x[i] for an integer variable i: negative, beyond
// the int64 range or not below the length is a fault, as the evaluator's
// index fails.
func (c *compiler) varIndex(x, idx *operand) (*operand, error) {
	if idx.isNil || idx.untypedBool {
		return nil, notCompilable("index %s is not an integer", idx.typeName())
	}
	if b := godwarf.Basic(idx.typ); b == nil || !godwarf.IsIntegerKind(b.Kind) {
		return nil, notCompilable("index of type %s", idx.typeName())
	}
	var elem godwarf.Type
	var stride int64
	base := 0 // slot of the data pointer of a slice or string
	switch t := godwarf.ResolveTypedef(x.typ).(type) {
	case *godwarf.ArrayType:
		if x.pl.kind == inRegs {
			return nil, notCompilable("variable index of an array held in registers")
		}
		if t.Count >= 1<<31 {
			return nil, notCompilable("array of %d elements", t.Count)
		}
		elem, stride = t.Elem, t.Stride
	case *godwarf.SliceType:
		if err := c.sliceHeader(x.pl); err != nil {
			return nil, err
		}
		elem, stride = t.Elem, t.Elem.Size()
	case *godwarf.StringType:
		if err := c.stringLen(x.pl, asm.R7); err != nil {
			return nil, err
		}
		elem, stride = c.basicType("uint8", reflect.Uint8, 1), 1
	default:
		return nil, notCompilable("expression %s (%s) does not support indexing", x.name, x.typeName())
	}
	if stride >= 1<<31 {
		return nil, notCompilable("elements of %d bytes", stride)
	}
	_, isArr := godwarf.ResolveTypedef(x.typ).(*godwarf.ArrayType)
	if !isArr {
		s, err := c.wordSlot(x.pl, 0)
		if err != nil {
			return nil, err
		}
		base = s
	}
	if err := c.toReg(idx, nil, asm0); err != nil {
		return nil, err
	}
	c.faultIf(func(l string) asm.Instruction { return asm.JSLT.Imm(asm0, 0, l) })
	if at, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.ArrayType); ok {
		c.faultIf(func(l string) asm.Instruction { return asm.JGE.Imm(asm0, int32(at.Count), l) })
		if err := c.loadAddr(x.pl, 0); err != nil {
			return nil, err
		}
	} else {
		c.faultIf(func(l string) asm.Instruction { return asm.JGE.Reg(asm0, asm.R7, l) })
		c.emit(asm.LoadMem(asm.R3, asm.R10, slotOff(base), asm.DWord))
	}
	if stride != 1 {
		c.emit(asm.Mul.Imm(asm0, int32(stride)))
	}
	c.emit(asm.Add.Reg(asm.R3, asm0))
	s, err := c.store(asm.R3)
	if err != nil {
		return nil, err
	}
	pl := &place{kind: inPtr, slot: s}
	if isString(x.typ) { // a string's bytes are values: read now
		if err := c.loadWord(pl, 0, 1, false, asm0); err != nil {
			return nil, err
		}
		return c.computedOf(elem)
	}
	return &operand{name: x.name, typ: elem, pl: pl}, nil
}
