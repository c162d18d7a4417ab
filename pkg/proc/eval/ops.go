package eval

import (
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// binary evaluates arithmetic, comparison, shift and logical operators
// with Go's typing rules: untyped constants take the other operand's type,
// typed operands must have identical types.
func (s *Scope) binary(e *ast.BinaryExpr) (*evalValue, error) {
	x, err := s.eval(e.X)
	if err != nil {
		return nil, err
	}
	if e.Op == token.LAND || e.Op == token.LOR {
		return s.logical(e, x)
	}
	y, err := s.eval(e.Y)
	if err != nil {
		return nil, err
	}
	if x.unreadable != nil {
		return nil, x.unreadable
	}
	if y.unreadable != nil {
		return nil, y.unreadable
	}
	switch e.Op {
	case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
		return s.compare(e.Op, x, y)
	case token.SHL, token.SHR:
		return s.shift(e.Op, x, y)
	}
	typ, err := s.unify(x, y)
	if err != nil {
		return nil, err
	}
	cx, err := s.operand(x, typ)
	if err != nil {
		return nil, err
	}
	cy, err := s.operand(y, typ)
	if err != nil {
		return nil, err
	}
	op := e.Op
	if cx.Kind() == constant.String || cy.Kind() == constant.String {
		if op != token.ADD || cx.Kind() != cy.Kind() {
			return nil, fmt.Errorf("operator %s not defined on %s", op, x.typeName())
		}
	}
	if cx.Kind() == constant.Bool || cy.Kind() == constant.Bool {
		return nil, fmt.Errorf("operator %s not defined on %s", op, x.typeName())
	}
	intOp := cx.Kind() == constant.Int && cy.Kind() == constant.Int
	if typ != nil {
		if b := godwarf.Basic(typ); b != nil {
			intOp = godwarf.IsIntegerKind(b.Kind)
			switch {
			case isFloat(b.Kind):
				cx, cy = constant.ToFloat(cx), constant.ToFloat(cy)
			case isComplex(b.Kind):
				cx, cy = constant.ToComplex(cx), constant.ToComplex(cy)
			}
		}
	}
	if (op == token.QUO || op == token.REM) && constant.Sign(cy) == 0 {
		if intOp {
			// Delve's wording: the panic Go raises at run time.
			return nil, errors.New("runtime error: integer divide by zero")
		}
		return nil, errors.New("division by zero")
	}
	switch op {
	case token.QUO:
		if intOp {
			op = token.QUO_ASSIGN // integer division, in go/constant's spelling
		}
	case token.REM, token.AND, token.OR, token.XOR, token.AND_NOT:
		if !intOp {
			return nil, fmt.Errorf("operator %s not defined on %s", op, x.typeName())
		}
	case token.ADD, token.SUB, token.MUL:
	default:
		return nil, fmt.Errorf("operator %s not supported", op)
	}
	r := constant.BinaryOp(cx, op, cy)
	if typ == nil {
		return &evalValue{konst: r, isRune: x.isRune || y.isRune, reg: -1}, nil
	}
	if b := godwarf.Basic(typ); b != nil {
		if r, err = fitKind(b.Kind, b.Size(), r); err != nil {
			return nil, err
		}
	}
	return s.store(r, typ, "")
}

// logical evaluates && and ||, skipping the right side when Go would.
func (s *Scope) logical(e *ast.BinaryExpr, x *evalValue) (*evalValue, error) {
	cx, err := s.scalar(x)
	if err != nil {
		return nil, err
	}
	if cx.Kind() != constant.Bool {
		return nil, fmt.Errorf("operator %s not defined on %s", e.Op, x.typeName())
	}
	if constant.BoolVal(cx) == (e.Op == token.LOR) {
		return &evalValue{konst: cx, reg: -1}, nil
	}
	y, err := s.eval(e.Y)
	if err != nil {
		return nil, err
	}
	cy, err := s.scalar(y)
	if err != nil {
		return nil, err
	}
	if cy.Kind() != constant.Bool {
		return nil, fmt.Errorf("operator %s not defined on %s", e.Op, y.typeName())
	}
	return &evalValue{konst: cy, reg: -1}, nil
}

// unify returns the type both operands take: nil when both are untyped.
func (s *Scope) unify(x, y *evalValue) (godwarf.Type, error) {
	switch {
	case x.typ == nil && y.typ == nil:
		return nil, nil
	case x.typ == nil:
		return y.typ, nil
	case y.typ == nil:
		return x.typ, nil
	case value.SameType(x.typ, y.typ):
		return x.typ, nil
	}
	return nil, fmt.Errorf("mismatched types %q and %q", value.TypeName(x.typ), value.TypeName(y.typ))
}

// operand reads v as a constant of type typ, converting an untyped
// constant the way Go does (an inexact conversion is an error).
func (s *Scope) operand(v *evalValue, typ godwarf.Type) (constant.Value, error) {
	c, err := s.scalar(v)
	if err != nil {
		return nil, err
	}
	if v.typ != nil || typ == nil {
		return c, nil
	}
	return convertConst(c, typ)
}

// convertConst converts an untyped constant to typ, as Go does implicitly.
func convertConst(c constant.Value, typ godwarf.Type) (constant.Value, error) {
	b := godwarf.Basic(typ)
	if b == nil {
		if _, ok := godwarf.ResolveTypedef(typ).(*godwarf.StringType); ok && c.Kind() == constant.String {
			return c, nil
		}
		return nil, fmt.Errorf("can not convert %s constant to %s", c, value.TypeName(typ))
	}
	switch {
	case godwarf.IsIntegerKind(b.Kind):
		i := constant.ToInt(c)
		if i.Kind() != constant.Int {
			return nil, fmt.Errorf("can not convert %s constant to %s", c, value.TypeName(typ))
		}
		return fitKind(b.Kind, b.Size(), i)
	case isFloat(b.Kind):
		f := constant.ToFloat(c)
		if f.Kind() != constant.Float && f.Kind() != constant.Int {
			return nil, fmt.Errorf("can not convert %s constant to %s", c, value.TypeName(typ))
		}
		return f, nil
	case isComplex(b.Kind):
		return constant.ToComplex(c), nil
	case c.Kind() == constant.Bool:
		return c, nil
	}
	return nil, fmt.Errorf("can not convert %s constant to %s", c, value.TypeName(typ))
}

func (s *Scope) shift(op token.Token, x, y *evalValue) (*evalValue, error) {
	cy, err := s.scalar(y)
	if err != nil {
		return nil, err
	}
	cy = constant.ToInt(cy)
	n, ok := constant.Uint64Val(cy)
	if cy.Kind() != constant.Int || !ok {
		return nil, fmt.Errorf("invalid shift count %s", cy)
	}
	if n > 1024 {
		return nil, fmt.Errorf("shift count %d too large", n)
	}
	cx, err := s.scalar(x)
	if err != nil {
		return nil, err
	}
	cx = constant.ToInt(cx)
	if cx.Kind() != constant.Int {
		return nil, fmt.Errorf("operator %s not defined on %s", op, x.typeName())
	}
	r := constant.Shift(cx, op, uint(n))
	if x.typ == nil {
		return &evalValue{konst: r, reg: -1}, nil
	}
	b := godwarf.Basic(x.typ)
	if b == nil || !godwarf.IsIntegerKind(b.Kind) {
		return nil, fmt.Errorf("operator %s not defined on %s", op, x.typeName())
	}
	if r, err = fitKind(b.Kind, b.Size(), r); err != nil {
		return nil, err
	}
	return s.store(r, x.typ, "")
}

// compare evaluates == != < <= > >=: numbers, strings and bools by value,
// pointers, maps, chans, funcs by address, slices and interfaces only
// against nil, structs and arrays field by field.
func (s *Scope) compare(op token.Token, x, y *evalValue) (*evalValue, error) {
	result := func(b bool) (*evalValue, error) {
		return &evalValue{konst: constant.MakeBool(b), reg: -1}, nil
	}
	if x.isNil || y.isNil {
		if op != token.EQL && op != token.NEQ {
			return nil, fmt.Errorf("operator %s not defined on nil", op)
		}
		other := x
		if x.isNil {
			other = y
		}
		if other.isNil {
			return nil, errors.New("operator == not defined on nil")
		}
		isnil, err := s.isNilValue(other)
		if err != nil {
			return nil, err
		}
		return result(isnil == (op == token.EQL))
	}
	typ, err := s.unify(x, y)
	if err != nil {
		return nil, err
	}
	if typ != nil {
		switch godwarf.ResolveTypedef(typ).(type) {
		case *godwarf.StructType, *godwarf.ArrayType, *godwarf.InterfaceType:
			if op != token.EQL && op != token.NEQ {
				return nil, fmt.Errorf("operator %s not defined on %s", op, value.TypeName(typ))
			}
			eq, err := s.equal(x, y, 0)
			if err != nil {
				return nil, err
			}
			return result(eq == (op == token.EQL))
		case *godwarf.SliceType:
			return nil, fmt.Errorf("can not compare %s values", value.TypeName(typ))
		}
	}
	cx, err := s.operand(x, typ)
	if err != nil {
		return nil, err
	}
	cy, err := s.operand(y, typ)
	if err != nil {
		return nil, err
	}
	if cx.Kind() != cy.Kind() {
		if cx.Kind() == constant.Bool || cy.Kind() == constant.Bool || cx.Kind() == constant.String || cy.Kind() == constant.String {
			return nil, fmt.Errorf("mismatched types %s and %s", x.typeName(), y.typeName())
		}
	}
	if (cx.Kind() == constant.Bool || cx.Kind() == constant.Complex) && op != token.EQL && op != token.NEQ {
		return nil, fmt.Errorf("operator %s not defined on %s", op, x.typeName())
	}
	return result(constant.Compare(cx, op, cy))
}

// isNilValue reports whether a pointer-like value is nil: for slices the
// data pointer, for interfaces the type word.
func (s *Scope) isNilValue(v *evalValue) (bool, error) {
	if v.unreadable != nil {
		return false, v.unreadable
	}
	switch godwarf.ResolveTypedef(v.typ).(type) {
	case *godwarf.PtrType, *godwarf.MapType, *godwarf.ChanType, *godwarf.FuncType, *godwarf.SliceType, *godwarf.InterfaceType:
		w, err := readWord(s.mem, v.addr)
		return w == 0, err
	}
	return false, fmt.Errorf("can not compare %s with nil", v.typeName())
}

// maxCompareSteps bounds the work of one evaluation's comparisons.
const maxCompareSteps = 1 << 20

// equal compares two values of the same type with Go's == semantics.
func (s *Scope) equal(x, y *evalValue, depth int) (bool, error) {
	if depth > 64 {
		return false, errors.New("values nested too deeply to compare")
	}
	if s.work++; s.work > maxCompareSteps {
		return false, errors.New("values too large to compare")
	}
	switch t := godwarf.ResolveTypedef(x.typ).(type) {
	case *godwarf.StructType:
		for _, f := range t.Fields {
			fx := &evalValue{typ: f.Type, addr: x.addr + uint64(f.ByteOffset), reg: -1}
			fy := &evalValue{typ: f.Type, addr: y.addr + uint64(f.ByteOffset), reg: -1}
			if eq, err := s.equal(fx, fy, depth+1); err != nil || !eq {
				return eq, err
			}
		}
		return true, nil
	case *godwarf.ArrayType:
		if t.Count > 1<<16 {
			return false, errors.New("array too large to compare")
		}
		for i := int64(0); i < t.Count; i++ {
			off := uint64(i * t.Stride)
			fx := &evalValue{typ: t.Elem, addr: x.addr + off, reg: -1}
			fy := &evalValue{typ: t.Elem, addr: y.addr + off, reg: -1}
			if eq, err := s.equal(fx, fy, depth+1); err != nil || !eq {
				return eq, err
			}
		}
		return true, nil
	case *godwarf.InterfaceType:
		dx, err := s.ifaceData(x)
		if err != nil {
			return false, err
		}
		dy, err := s.ifaceData(y)
		if err != nil {
			return false, err
		}
		if dx == nil || dy == nil {
			return dx == nil && dy == nil, nil
		}
		if !value.SameType(dx.typ, dy.typ) {
			return false, nil
		}
		return s.equal(dx, dy, depth+1)
	case *godwarf.SliceType:
		return false, fmt.Errorf("can not compare %s values", value.TypeName(x.typ))
	}
	cx, err := s.scalar(x)
	if err != nil {
		return false, err
	}
	cy, err := s.scalar(y)
	if err != nil {
		return false, err
	}
	return constant.Compare(cx, token.EQL, cy), nil
}
