package cond

import (
	"go/ast"
	"go/constant"
	"go/token"
	"reflect"

	"github.com/cilium/ebpf/asm"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

func (c *compiler) binary(e *ast.BinaryExpr) (*operand, error) {
	x, err := c.expr(e.X)
	if err != nil {
		return nil, err
	}
	if e.Op == token.LAND || e.Op == token.LOR {
		return c.logical(e, x)
	}
	y, err := c.expr(e.Y)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
		return c.compare(e.Op, x, y)
	case token.SHL, token.SHR:
		return c.shift(e.Op, x, y)
	}
	return c.arith(e.Op, x, y)
}

// unify is the evaluator's rule: an untyped operand takes the other's
// type, typed operands must have the same type.
func unify(x, y *operand) (godwarf.Type, error) {
	switch {
	case x.typ == nil:
		return y.typ, nil
	case y.typ == nil:
		return x.typ, nil
	case value.SameType(x.typ, y.typ):
		return x.typ, nil
	}
	return nil, notCompilable("mismatched types %q and %q", value.TypeName(x.typ), value.TypeName(y.typ))
}

func (c *compiler) boolType() godwarf.Type { return c.basicType("bool", reflect.Bool, 1) }

func isBoolType(t godwarf.Type) bool {
	b := godwarf.Basic(t)
	return b != nil && b.Kind == reflect.Bool
}

// checkUntypedBool rejects an untyped bool result used with a non-bool
// type, which the evaluator fails to convert.
func checkUntypedBool(x, y *operand, typ godwarf.Type) error {
	if (x.untypedBool || y.untypedBool) && typ != nil && !isBoolType(typ) {
		return notCompilable("can not convert untyped bool to %s", value.TypeName(typ))
	}
	return nil
}

var signedJumps = map[token.Token]asm.JumpOp{token.EQL: asm.JEq, token.NEQ: asm.JNE,
	token.LSS: asm.JSLT, token.LEQ: asm.JSLE, token.GTR: asm.JSGT, token.GEQ: asm.JSGE}

var unsignedJumps = map[token.Token]asm.JumpOp{token.EQL: asm.JEq, token.NEQ: asm.JNE,
	token.LSS: asm.JLT, token.LEQ: asm.JLE, token.GTR: asm.JGT, token.GEQ: asm.JGE}

func (c *compiler) compare(op token.Token, x, y *operand) (*operand, error) {
	eqOp := op == token.EQL || op == token.NEQ
	if x.isNil || y.isNil {
		if !eqOp {
			return nil, notCompilable("operator %s not defined on nil", op)
		}
		other := x
		if x.isNil {
			other = y
		}
		if other.isNil {
			return nil, notCompilable("operator == not defined on nil")
		}
		return c.nilTest(other, op == token.EQL)
	}
	typ, err := unify(x, y)
	if err != nil {
		return nil, err
	}
	if err := checkUntypedBool(x, y, typ); err != nil {
		return nil, err
	}
	if typ != nil {
		switch godwarf.ResolveTypedef(typ).(type) {
		case *godwarf.StructType, *godwarf.ArrayType, *godwarf.InterfaceType:
			return nil, notCompilable("comparison of %s values", value.TypeName(typ))
		case *godwarf.SliceType:
			return nil, notCompilable("can not compare %s values", value.TypeName(typ))
		case *godwarf.StringType:
			return c.stringCompare(op, x, y)
		}
	}
	if x.isConst() && y.isConst() {
		cx, cy := x.konst, y.konst
		if cx.Kind() != cy.Kind() && (cx.Kind() == constant.Bool || cy.Kind() == constant.Bool ||
			cx.Kind() == constant.String || cy.Kind() == constant.String) {
			return nil, notCompilable("mismatched types")
		}
		if (cx.Kind() == constant.Bool || cx.Kind() == constant.Complex) && !eqOp {
			return nil, notCompilable("operator %s not defined on %s", op, x.typeName())
		}
		return &operand{konst: constant.MakeBool(constant.Compare(cx, op, cy))}, nil
	}
	jumps := unsignedJumps
	as := typ
	if typ == nil {
		// An untyped bool result against an untyped constant.
		for _, o := range []*operand{x, y} {
			if o.isConst() && o.konst.Kind() != constant.Bool {
				return nil, notCompilable("mismatched types")
			}
		}
		as = c.boolType()
	}
	if isBoolType(as) && !eqOp {
		return nil, notCompilable("operator %s not defined on bool", op)
	}
	if !isWord(as) {
		_, signed, err := scalarInfo(as)
		if err != nil {
			return nil, err
		}
		if signed {
			jumps = signedJumps
		}
	}
	if err := c.pair(x, y, as); err != nil {
		return nil, err
	}
	lt := c.label()
	c.emit(asm.Mov.Imm(asm.R2, 1), jumps[op].Reg(asm0, asm.R1, lt), asm.Mov.Imm(asm.R2, 0))
	c.mark(lt)
	c.emit(asm.Mov.Reg(asm0, asm.R2))
	return c.untypedBoolOf()
}

// nilTest compares a pointer-like value with nil: its first word (a
// slice's data pointer, an interface's type word).
func (c *compiler) nilTest(o *operand, eq bool) (*operand, error) {
	switch godwarf.ResolveTypedef(o.typ).(type) {
	case *godwarf.PtrType, *godwarf.MapType, *godwarf.ChanType, *godwarf.FuncType, *godwarf.SliceType, *godwarf.InterfaceType:
	default:
		return nil, notCompilable("can not compare %s with nil", o.typeName())
	}
	if o.typ == nil || o.pl == nil {
		return nil, notCompilable("can not compare %s with nil", o.typeName())
	}
	if err := c.loadWord(o.pl, 0, 8, false, asm0); err != nil {
		return nil, err
	}
	l := c.label()
	c.emit(asm.Mov.Imm(asm.R2, 1))
	if eq {
		c.emit(asm.JEq.Imm(asm0, 0, l))
	} else {
		c.emit(asm.JNE.Imm(asm0, 0, l))
	}
	c.emit(asm.Mov.Imm(asm.R2, 0))
	c.mark(l)
	c.emit(asm.Mov.Reg(asm0, asm.R2))
	return c.untypedBoolOf()
}

func (c *compiler) isBoolOperand(o *operand) bool {
	return o.untypedBool || (o.isConst() && o.konst.Kind() == constant.Bool) || (o.typ != nil && isBoolType(o.typ))
}

// logical compiles && and || with Go's short circuit: the right side's
// code (and its faults) runs only when the left does not decide.
func (c *compiler) logical(e *ast.BinaryExpr, x *operand) (*operand, error) {
	if !c.isBoolOperand(x) {
		return nil, notCompilable("operator %s not defined on %s", e.Op, x.typeName())
	}
	if x.isConst() {
		if constant.BoolVal(x.konst) == (e.Op == token.LOR) {
			return &operand{konst: x.konst}, nil
		}
		y, err := c.expr(e.Y)
		if err != nil {
			return nil, err
		}
		if !c.isBoolOperand(y) {
			return nil, notCompilable("operator %s not defined on %s", e.Op, y.typeName())
		}
		if y.isConst() {
			return &operand{konst: y.konst}, nil
		}
		if err := c.toReg(y, c.boolType(), asm0); err != nil {
			return nil, err
		}
		return c.untypedBoolOf()
	}
	if err := c.toReg(x, c.boolType(), asm0); err != nil {
		return nil, err
	}
	short := c.label()
	if e.Op == token.LAND {
		c.emit(asm.JEq.Imm(asm0, 0, short))
	} else {
		c.emit(asm.JNE.Imm(asm0, 0, short))
	}
	y, err := c.expr(e.Y)
	if err != nil {
		return nil, err
	}
	if !c.isBoolOperand(y) {
		return nil, notCompilable("operator %s not defined on %s", e.Op, y.typeName())
	}
	if err := c.toReg(y, c.boolType(), asm0); err != nil {
		return nil, err
	}
	c.mark(short)
	return c.untypedBoolOf()
}

// foldArith computes an operator on two untyped constants as the
// evaluator does.
func foldArith(op token.Token, cx, cy constant.Value) (*operand, error) {
	if cx.Kind() == constant.String || cy.Kind() == constant.String {
		if op != token.ADD || cx.Kind() != cy.Kind() {
			return nil, notCompilable("operator %s not defined on untyped string", op)
		}
	}
	if cx.Kind() == constant.Bool || cy.Kind() == constant.Bool {
		return nil, notCompilable("operator %s not defined on untyped bool", op)
	}
	intOp := cx.Kind() == constant.Int && cy.Kind() == constant.Int
	if (op == token.QUO || op == token.REM) && constant.Sign(cy) == 0 {
		return nil, notCompilable("division by zero")
	}
	switch op {
	case token.QUO:
		if intOp {
			op = token.QUO_ASSIGN
		}
	case token.REM, token.AND, token.OR, token.XOR, token.AND_NOT:
		if !intOp {
			return nil, notCompilable("operator %s not defined on untyped constant", op)
		}
	case token.ADD, token.SUB, token.MUL:
	default:
		return nil, notCompilable("operator %s not supported", op)
	}
	return &operand{konst: constant.BinaryOp(cx, op, cy)}, nil
}

func (c *compiler) arith(op token.Token, x, y *operand) (*operand, error) {
	if x.isNil || y.isNil {
		return nil, notCompilable("operator %s not defined on nil", op)
	}
	if x.untypedBool || y.untypedBool {
		return nil, notCompilable("operator %s not defined on bool", op)
	}
	typ, err := unify(x, y)
	if err != nil {
		return nil, err
	}
	if typ == nil {
		return foldArith(op, x.konst, y.konst)
	}
	if isString(typ) {
		if op == token.ADD {
			return nil, notCompilable("string concatenation")
		}
		return nil, notCompilable("operator %s not defined on %s", op, value.TypeName(typ))
	}
	b := godwarf.Basic(typ)
	if b == nil {
		if isWord(typ) {
			return nil, notCompilable("pointer arithmetic")
		}
		return nil, notCompilable("operator %s not defined on %s", op, value.TypeName(typ))
	}
	if isFloatish(b.Kind) {
		return nil, notCompilable("floating-point value")
	}
	if !godwarf.IsIntegerKind(b.Kind) {
		return nil, notCompilable("operator %s not defined on %s", op, value.TypeName(typ))
	}
	if (op == token.QUO || op == token.REM) && y.konst != nil {
		if v, err := constFor(&operand{konst: y.konst}, typ); err == nil && v == 0 {
			return nil, notCompilable("division by zero")
		}
	}
	if err := c.pair(x, y, typ); err != nil {
		return nil, err
	}
	signed := godwarf.IsSignedKind(b.Kind)
	switch op {
	case token.ADD:
		c.emit(asm.Add.Reg(asm0, asm.R1))
	case token.SUB:
		c.emit(asm.Sub.Reg(asm0, asm.R1))
	case token.MUL:
		c.emit(asm.Mul.Reg(asm0, asm.R1))
	case token.QUO, token.REM:
		c.faultIf(func(l string) asm.Instruction { return asm.JEq.Imm(asm.R1, 0, l) })
		switch {
		case op == token.QUO && signed:
			c.emit(asm.SDiv.Reg(asm0, asm.R1))
		case op == token.QUO:
			c.emit(asm.Div.Reg(asm0, asm.R1))
		case signed:
			c.emit(asm.SMod.Reg(asm0, asm.R1))
		default:
			c.emit(asm.Mod.Reg(asm0, asm.R1))
		}
	case token.AND:
		c.emit(asm.And.Reg(asm0, asm.R1))
	case token.OR:
		c.emit(asm.Or.Reg(asm0, asm.R1))
	case token.XOR:
		c.emit(asm.Xor.Reg(asm0, asm.R1))
	case token.AND_NOT:
		c.emit(asm.Xor.Imm(asm.R1, -1), asm.And.Reg(asm0, asm.R1))
	default:
		return nil, notCompilable("operator %s not supported", op)
	}
	c.normalize(asm0, int(b.Size()), signed)
	return c.computedOf(typ)
}

// shift compiles << and >>: the count must be a non-negative integer not
// above 1024 (else the evaluator fails: a fault); counts of 64 and more
// give what the evaluator's exact arithmetic gives once wrapped.
func (c *compiler) shift(op token.Token, x, y *operand) (*operand, error) {
	yConst := y.konst != nil
	var n uint64
	switch {
	case yConst:
		k := constant.ToInt(y.konst)
		v, ok := constant.Uint64Val(k)
		if k.Kind() != constant.Int || !ok {
			return nil, notCompilable("invalid shift count %s", y.konst)
		}
		if v > 1024 {
			return nil, notCompilable("shift count %d too large", v)
		}
		n = v
	case y.isNil || y.untypedBool:
		return nil, notCompilable("invalid shift count")
	default:
		if b := godwarf.Basic(y.typ); b == nil || !godwarf.IsIntegerKind(b.Kind) {
			return nil, notCompilable("invalid shift count of type %s", y.typeName())
		}
	}
	if x.isNil || x.untypedBool {
		return nil, notCompilable("operator %s not defined on %s", op, x.typeName())
	}
	if x.typ == nil {
		k := constant.ToInt(x.konst)
		if k.Kind() != constant.Int {
			return nil, notCompilable("operator %s not defined on %s", op, x.typeName())
		}
		if !yConst {
			return nil, notCompilable("shift of an untyped constant by a variable")
		}
		return &operand{konst: constant.Shift(k, op, uint(n))}, nil
	}
	b := godwarf.Basic(x.typ)
	if b == nil || !godwarf.IsIntegerKind(b.Kind) {
		if b != nil && isFloatish(b.Kind) {
			return nil, notCompilable("floating-point value")
		}
		return nil, notCompilable("operator %s not defined on %s", op, x.typeName())
	}
	signed := godwarf.IsSignedKind(b.Kind)
	if err := c.toReg(x, nil, asm.R7); err != nil {
		return nil, err
	}
	if yConst {
		c.emit(asm.Mov.Imm(asm.R1, int32(n)))
	} else {
		if err := c.toReg(y, nil, asm0); err != nil {
			return nil, err
		}
		c.emit(asm.Mov.Reg(asm.R1, asm0))
		c.faultIf(func(l string) asm.Instruction { return asm.JGT.Imm(asm.R1, 1024, l) })
	}
	c.emit(asm.Mov.Reg(asm0, asm.R7))
	big, done := c.label(), c.label()
	c.emit(asm.JGE.Imm(asm.R1, 64, big))
	switch {
	case op == token.SHL:
		c.emit(asm.LSh.Reg(asm0, asm.R1))
	case signed:
		c.emit(asm.ArSh.Reg(asm0, asm.R1))
	default:
		c.emit(asm.RSh.Reg(asm0, asm.R1))
	}
	c.emit(asm.Ja.Label(done))
	c.mark(big)
	if op == token.SHR && signed {
		c.emit(asm.ArSh.Imm(asm0, 63))
	} else {
		c.emit(asm.Mov.Imm(asm0, 0))
	}
	c.mark(done)
	c.normalize(asm0, int(b.Size()), signed)
	return c.computedOf(x.typ)
}
