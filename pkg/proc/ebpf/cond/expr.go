package cond

import (
	"go/ast"
	"go/constant"
	"go/token"
	"reflect"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// maxDepth bounds the nesting of a condition.
const maxDepth = 64

func (c *compiler) expr(e any) (*operand, error) {
	switch e := e.(type) {
	case *ast.BasicLit:
		k := constant.MakeFromLiteral(e.Value, e.Kind, 0)
		if k.Kind() == constant.Unknown {
			return nil, notCompilable("invalid literal %s", e.Value)
		}
		return &operand{konst: k}, nil
	case *ast.Ident:
		return c.ident(e.Name)
	case *ast.ParenExpr:
		return c.expr(e.X)
	case *ast.SelectorExpr:
		return c.selector(e)
	case *ast.StarExpr:
		x, err := c.expr(e.X)
		if err != nil {
			return nil, err
		}
		return c.deref(x)
	case *ast.UnaryExpr:
		return c.unary(e)
	case *ast.BinaryExpr:
		return c.binary(e)
	case *ast.IndexExpr:
		return c.index(e)
	case *ast.CallExpr:
		return c.call(e)
	case *ast.SliceExpr:
		return nil, notCompilable("slice expression")
	case *ast.TypeAssertExpr:
		return nil, notCompilable("type assertion")
	case *ast.CompositeLit:
		return nil, notCompilable("composite literal")
	}
	return nil, notCompilable("expression %T", e)
}

// ident resolves a name in the evaluator's order: locals, the package's
// variables, nil/true/false, named constants, registers.
func (c *compiler) ident(name string) (*operand, error) {
	if v, ok := c.lookupVar(name); ok {
		return c.variable(v)
	}
	cu := c.scope.Func.CU
	if cu != nil {
		if o, ok, err := c.packageVar(cu.Name+"."+name, name); ok || err != nil {
			return o, err
		}
	}
	switch name {
	case "nil":
		return &operand{isNil: true}, nil
	case "true", "false":
		return &operand{konst: constant.MakeBool(name == "true")}, nil
	}
	if cu != nil {
		if o, ok := c.namedConst(cu.Name + "." + name); ok {
			return o, nil
		}
	}
	if isRegister(name) {
		return nil, notCompilable("CPU register %s", name)
	}
	return nil, notCompilable("could not find symbol value for %s", name)
}

func isRegister(name string) bool {
	n := strings.ToLower(strings.TrimLeft(name, "_"))
	for i := 0; i < regnum.Count; i++ {
		if regnum.Name(i) == n {
			return true
		}
	}
	return false
}

// namedConst is an integer constant of the binary's DWARF, typed.
func (c *compiler) namedConst(full string) (*operand, bool) {
	typ, n, err := c.prog.Types.Constant(full)
	if err != nil {
		return nil, false
	}
	if b := godwarf.Basic(typ); b == nil || !godwarf.IsIntegerKind(b.Kind) {
		return nil, false
	}
	return &operand{name: full, typ: typ, konst: constant.MakeInt64(n)}, true
}

func (c *compiler) selector(e *ast.SelectorExpr) (*operand, error) {
	switch x := e.X.(type) {
	case *ast.Ident:
		_, local := c.lookupVar(x.Name)
		cu := c.scope.Func.CU
		pkgVar := false
		if cu != nil {
			_, err := c.bi.LookupPackageVar(cu.Name + "." + x.Name)
			pkgVar = err == nil
		}
		if !local && !pkgVar {
			return c.qualified(x.Name, e.Sel.Name)
		}
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			path, err := strconv.Unquote(x.Value)
			if err != nil {
				return nil, notCompilable("%v", err)
			}
			if o, ok, err := c.packageVar(path+"."+e.Sel.Name, path+"."+e.Sel.Name); ok || err != nil {
				return o, err
			}
			return nil, notCompilable("could not find symbol value for %s.%s", x.Value, e.Sel.Name)
		}
	}
	xv, err := c.expr(e.X)
	if err != nil {
		return nil, err
	}
	return c.field(xv, e.Sel.Name)
}

// qualified resolves pkg.name where pkg is a package's last path element.
func (c *compiler) qualified(pkg, name string) (*operand, error) {
	if o, ok, err := c.packageVar(pkg+"."+name, pkg+"."+name); ok || err != nil {
		return o, err
	}
	units, err := c.bi.CompileUnits()
	if err != nil {
		return nil, notCompilable("%v", err)
	}
	for _, cu := range units {
		if strings.HasSuffix(cu.Name, "/"+pkg) {
			if o, ok, err := c.packageVar(cu.Name+"."+name, pkg+"."+name); ok || err != nil {
				return o, err
			}
		}
	}
	if o, ok := c.namedConst(pkg + "." + name); ok {
		return o, nil
	}
	if isRegister(pkg) {
		return nil, notCompilable("CPU register %s", pkg)
	}
	return nil, notCompilable("could not find symbol value for %s.%s", pkg, name)
}

// deref follows a pointer; nil is a fault, as the evaluator fails.
func (c *compiler) deref(x *operand) (*operand, error) {
	if x.isNil {
		return nil, notCompilable("nil pointer dereference")
	}
	pt, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.PtrType)
	if x.typ == nil || !ok || pt.Elem == nil {
		return nil, notCompilable("expression %s (%s) can not be dereferenced", x.name, x.typeName())
	}
	s, err := c.ptrValueSlot(x)
	if err != nil {
		return nil, err
	}
	return &operand{name: "*" + x.name, typ: pt.Elem, pl: &place{kind: inPtr, slot: s}}, nil
}

// ptrValueSlot evaluates a pointer operand into a slot, faulting on nil.
func (c *compiler) ptrValueSlot(x *operand) (int, error) {
	if x.pl != nil {
		return c.pointerSlot(x.pl, 0)
	}
	return 0, notCompilable("dereference of a computed pointer")
}

// field selects a struct field, following up to two pointers as the
// evaluator does; interfaces are not followed (their dynamic type is not
// known at compile time).
func (c *compiler) field(x *operand, name string) (*operand, error) {
	for i := 0; i < 2; i++ {
		switch godwarf.ResolveTypedef(x.typ).(type) {
		case *godwarf.PtrType:
			d, err := c.deref(x)
			if err != nil {
				return nil, err
			}
			d.name = x.name
			x = d
		case *godwarf.InterfaceType:
			return nil, notCompilable("field of an interface's dynamic value")
		}
	}
	st, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.StructType)
	if x.typ == nil || !ok || x.pl == nil {
		return nil, notCompilable("%s (type %s) is not a struct", x.name, x.typeName())
	}
	off, typ, err := findField(st, name, 0)
	if err != nil {
		return nil, err
	}
	if typ == nil {
		return nil, notCompilable("%s has no member %s", x.name, name)
	}
	return &operand{name: x.name + "." + name, typ: typ, pl: x.pl.at(off)}, nil
}

// findField finds a direct field, then one promoted through an embedded
// struct, in the evaluator's order.
func findField(st *godwarf.StructType, name string, depth int) (int64, godwarf.Type, error) {
	if depth > 16 {
		return 0, nil, nil
	}
	for _, f := range st.Fields {
		if f.Name == name {
			return f.ByteOffset, f.Type, nil
		}
	}
	for _, f := range st.Fields {
		if !f.Embedded {
			continue
		}
		switch t := godwarf.ResolveTypedef(f.Type).(type) {
		case *godwarf.PtrType:
			return 0, nil, notCompilable("field promoted through an embedded pointer")
		case *godwarf.StructType:
			off, typ, err := findField(t, name, depth+1)
			if err != nil || typ != nil {
				return f.ByteOffset + off, typ, err
			}
		}
	}
	return 0, nil, nil
}

func (c *compiler) unary(e *ast.UnaryExpr) (*operand, error) {
	if e.Op == token.AND {
		return nil, notCompilable("address-of operator")
	}
	x, err := c.expr(e.X)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case token.SUB, token.ADD, token.XOR, token.NOT:
	default:
		return nil, notCompilable("operator %s not supported", e.Op)
	}
	if x.isNil {
		return nil, notCompilable("operator %s not defined on nil", e.Op)
	}
	if x.isConst() {
		k := x.konst
		if (e.Op == token.NOT) != (k.Kind() == constant.Bool) || k.Kind() == constant.String {
			return nil, notCompilable("operator %s not defined on %s", e.Op, x.typeName())
		}
		return &operand{konst: constant.UnaryOp(e.Op, k, 0)}, nil
	}
	if x.untypedBool {
		if e.Op != token.NOT {
			return nil, notCompilable("operator %s not defined on untyped bool", e.Op)
		}
		if err := c.toReg(x, nil, asm0); err != nil {
			return nil, err
		}
		c.emit(asm.Xor.Imm(asm0, 1))
		return c.untypedBoolOf()
	}
	b := godwarf.Basic(x.typ)
	if b == nil {
		return nil, notCompilable("operator %s not defined on %s", e.Op, x.typeName())
	}
	if isFloatish(b.Kind) {
		return nil, notCompilable("floating-point value")
	}
	if (e.Op == token.NOT) != (b.Kind == reflect.Bool) {
		return nil, notCompilable("operator %s not defined on %s", e.Op, x.typeName())
	}
	if err := c.toReg(x, nil, asm0); err != nil {
		return nil, err
	}
	switch e.Op {
	case token.SUB:
		c.emit(asm.Neg.Imm(asm0, 0))
	case token.XOR:
		c.emit(asm.Xor.Imm(asm0, -1))
	case token.NOT:
		c.emit(asm.Xor.Imm(asm0, 1))
	}
	c.normalize(asm0, int(b.Size()), godwarf.IsSignedKind(b.Kind))
	return c.computedOf(x.typ)
}

func (c *compiler) call(e *ast.CallExpr) (*operand, error) {
	if id, ok := e.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") {
		if _, local := c.lookupVar(id.Name); !local {
			return c.lenCap(id.Name, e.Args)
		}
	}
	if typ, ok := c.typeOf(e.Fun); ok {
		if len(e.Args) != 1 {
			return nil, notCompilable("wrong number of arguments to conversion to %s", value.TypeName(typ))
		}
		x, err := c.expr(e.Args[0])
		if err != nil {
			return nil, err
		}
		return c.convert(x, typ)
	}
	return nil, notCompilable("function call")
}

// basicNames are Go's predeclared integer and bool types, for binaries
// whose DWARF lacks one.
var basicNames = map[string]struct {
	kind reflect.Kind
	size int64
}{
	"bool": {reflect.Bool, 1}, "int": {reflect.Int, 8}, "int8": {reflect.Int8, 1}, "int16": {reflect.Int16, 2},
	"int32": {reflect.Int32, 4}, "int64": {reflect.Int64, 8}, "uint": {reflect.Uint, 8}, "uint8": {reflect.Uint8, 1},
	"uint16": {reflect.Uint16, 2}, "uint32": {reflect.Uint32, 4}, "uint64": {reflect.Uint64, 8}, "uintptr": {reflect.Uintptr, 8},
	"byte": {reflect.Uint8, 1}, "rune": {reflect.Int32, 4},
}

// typeOf resolves the type of a conversion as the evaluator does for the
// forms a condition uses: a predeclared name, or a type of the package.
func (c *compiler) typeOf(e ast.Expr) (godwarf.Type, bool) {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return c.typeOf(e.X)
	case *ast.Ident:
		name := e.Name
		switch name {
		case "byte":
			name = "uint8"
		case "rune":
			name = "int32"
		}
		if t, err := c.prog.Types.ByName(name); err == nil {
			return t, true
		}
		if b, ok := basicNames[name]; ok {
			return c.basicType(name, b.kind, b.size), true
		}
		if cu := c.scope.Func.CU; cu != nil {
			if t, err := c.prog.Types.ByName(cu.Name + "." + e.Name); err == nil {
				return t, true
			}
		}
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			if t, err := c.prog.Types.ByName(x.Name + "." + e.Sel.Name); err == nil {
				return t, true
			}
		}
	}
	return nil, false
}

// convert compiles T(x) between integer types (and bools to a bool type),
// wrapping as the evaluator's conversion does.
func (c *compiler) convert(x *operand, typ godwarf.Type) (*operand, error) {
	if x.isNil {
		return nil, notCompilable("conversion of nil")
	}
	dst := godwarf.ResolveTypedef(typ)
	if x.typ != nil && (value.SameType(godwarf.ResolveTypedef(x.typ), dst) || value.TypeName(godwarf.ResolveTypedef(x.typ)) == value.TypeName(dst)) {
		o := *x
		o.typ = typ
		return &o, nil
	}
	b, ok := dst.(*godwarf.BasicType)
	if !ok {
		return nil, notCompilable("conversion to %s", value.TypeName(typ))
	}
	if isFloatish(b.Kind) {
		return nil, notCompilable("floating-point value")
	}
	toBool := b.Kind == reflect.Bool
	switch {
	case x.isConst():
		k := x.konst
		if k.Kind() == constant.String || (k.Kind() == constant.Bool) != toBool {
			return nil, notCompilable("can not convert %s to %s", x.typeName(), value.TypeName(typ))
		}
		if toBool {
			return &operand{typ: typ, konst: k}, nil
		}
		u, ok := wrapConst(k, b)
		if !ok {
			return nil, notCompilable("can not convert %s constant to %s", k, value.TypeName(typ))
		}
		if godwarf.IsSignedKind(b.Kind) {
			return &operand{typ: typ, konst: constant.MakeInt64(int64(u))}, nil
		}
		return &operand{typ: typ, konst: constant.MakeUint64(u)}, nil
	case x.untypedBool:
		if !toBool {
			return nil, notCompilable("can not convert untyped bool to %s", value.TypeName(typ))
		}
		return &operand{typ: typ, slot: x.slot}, nil
	}
	if isString(x.typ) {
		return nil, notCompilable("can not convert %s to %s", x.typeName(), value.TypeName(typ))
	}
	if _, _, err := scalarInfo(x.typ); err != nil {
		return nil, err
	}
	if isBoolType(x.typ) != toBool {
		return nil, notCompilable("can not convert %s to %s", x.typeName(), value.TypeName(typ))
	}
	if err := c.toReg(x, nil, asm0); err != nil {
		return nil, err
	}
	c.normalize(asm0, int(b.Size()), godwarf.IsSignedKind(b.Kind))
	return c.computedOf(typ)
}

// intType is the type len and cap return.
func (c *compiler) basicType(name string, kind reflect.Kind, size int64) godwarf.Type {
	if t, err := c.prog.Types.ByName(name); err == nil {
		return t
	}
	return &godwarf.BasicType{CommonType: godwarf.CommonType{Name: name, ByteSize: size}, Kind: kind}
}

func (c *compiler) intType() godwarf.Type { return c.basicType("int", reflect.Int, 8) }

func (c *compiler) lenCap(name string, args []ast.Expr) (*operand, error) {
	if len(args) != 1 {
		return nil, notCompilable("wrong number of arguments to %s: %d", name, len(args))
	}
	x, err := c.expr(args[0])
	if err != nil {
		return nil, err
	}
	if x.typ == nil {
		if x.isConst() && x.konst.Kind() == constant.String && name == "len" {
			return &operand{typ: c.intType(), konst: constant.MakeInt64(int64(len(constant.StringVal(x.konst))))}, nil
		}
		return nil, notCompilable("invalid argument for %s", name)
	}
	if pt, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.PtrType); ok {
		if _, isArr := godwarf.ResolveTypedef(pt.Elem).(*godwarf.ArrayType); isArr {
			if x, err = c.deref(x); err != nil {
				return nil, err
			}
		}
	}
	switch t := godwarf.ResolveTypedef(x.typ).(type) {
	case *godwarf.MapType, *godwarf.ChanType:
		return nil, notCompilable("%s of a map or channel", name)
	case *godwarf.ArrayType:
		return &operand{typ: c.intType(), konst: constant.MakeInt64(t.Count)}, nil
	case *godwarf.SliceType:
		if x.pl == nil {
			return nil, notCompilable("invalid argument for %s", name)
		}
		if err := c.sliceHeader(x.pl); err != nil {
			return nil, err
		}
		if name == "cap" {
			c.emit(asm.Mov.Reg(asm0, asm.R8))
		} else {
			c.emit(asm.Mov.Reg(asm0, asm.R7))
		}
		return c.computedOf(c.intType())
	case *godwarf.StringType:
		if name == "cap" || x.pl == nil {
			return nil, notCompilable("invalid argument %s (%s) for %s", x.name, x.typeName(), name)
		}
		if err := c.stringLen(x.pl, asm.R7); err != nil {
			return nil, err
		}
		c.emit(asm.Mov.Reg(asm0, asm.R7))
		return c.computedOf(c.intType())
	}
	return nil, notCompilable("invalid argument %s (%s) for %s", x.name, x.typeName(), name)
}

// sliceHeader loads a slice's length into R7 and capacity into R8,
// faulting on a header the evaluator rejects (len < 0 or cap < len).
func (c *compiler) sliceHeader(pl *place) error {
	if err := c.loadWord(pl, 16, 8, true, asm.R8); err != nil {
		return err
	}
	if err := c.loadWord(pl, 8, 8, true, asm.R7); err != nil {
		return err
	}
	c.faultIf(func(l string) asm.Instruction { return asm.JSLT.Imm(asm.R7, 0, l) })
	c.faultIf(func(l string) asm.Instruction { return asm.JSLT.Reg(asm.R8, asm.R7, l) })
	return nil
}

// stringLen loads a string's length into dst, faulting when negative.
func (c *compiler) stringLen(pl *place, dst asm.Register) error {
	if err := c.loadWord(pl, 8, 8, true, dst); err != nil {
		return err
	}
	c.faultIf(func(l string) asm.Instruction { return asm.JSLT.Imm(dst, 0, l) })
	return nil
}

// wordSlot keeps the 8-byte word at pl+off in a new slot.
func (c *compiler) wordSlot(pl *place, off int64) (int, error) {
	if err := c.loadWord(pl, off, 8, false, asm0); err != nil {
		return 0, err
	}
	return c.store(asm0)
}
