package eval

import (
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"unicode/utf8"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

var errCall = errors.New("function calls not allowed without using 'call'")

// call handles builtins (len, cap, real, imag, complex) and conversions;
// calling program functions needs call injection, which is not supported.
func (s *Scope) call(e *ast.CallExpr) (*evalValue, error) {
	if r, ok := s.results[e]; ok {
		return s.resultValue(e, r)
	}
	if id, ok := e.Fun.(*ast.Ident); ok {
		if _, local := s.lookupLocal(id.Name); !local {
			switch id.Name {
			case "len", "cap":
				return s.lenCap(id.Name, e.Args)
			case "real", "imag":
				return s.realImag(id.Name, e.Args)
			case "complex":
				return s.complexOf(e.Args)
			}
		}
	}
	if typ, err := s.typeOf(e.Fun); err == nil {
		if len(e.Args) != 1 {
			return nil, fmt.Errorf("wrong number of arguments to conversion to %s", value.TypeName(typ))
		}
		x, err := s.eval(e.Args[0])
		if err != nil {
			return nil, err
		}
		return s.convert(x, typ)
	}
	if name := typeExprName(e.Fun); name != "" {
		if s.funcNamed(name) != nil {
			return nil, errCall
		}
	}
	if _, err := s.eval(e.Fun); err != nil {
		return nil, err
	}
	return nil, errCall
}

func (s *Scope) lenCap(name string, args []ast.Expr) (*evalValue, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("wrong number of arguments to %s: %d", name, len(args))
	}
	x, err := s.eval(args[0])
	if err != nil {
		return nil, err
	}
	if x.unreadable != nil {
		return nil, x.unreadable
	}
	var n int64
	switch t := godwarf.ResolveTypedef(x.typ).(type) {
	case *godwarf.MapType, *godwarf.ChanType:
		if _, isMap := t.(*godwarf.MapType); isMap && name == "cap" {
			return nil, fmt.Errorf("invalid argument %s (%s) for cap", x.name, x.typeName())
		}
		v := s.load(x, x.name, value.LoadConfig{})
		if v.Unreadable != nil {
			return nil, v.Unreadable
		}
		n = v.Len
		if name == "cap" {
			n = v.Cap
		}
	default:
		if x.typ == nil {
			if x.konst != nil && x.konst.Kind() == constant.String && name == "len" {
				n = int64(len(constant.StringVal(x.konst)))
				break
			}
			return nil, fmt.Errorf("invalid argument %s for %s", exprText(args[0]), name)
		}
		seq, err := s.sequenceOf(x)
		if err != nil {
			return nil, fmt.Errorf("invalid argument %s (%s) for %s", x.name, x.typeName(), name)
		}
		if seq.isString && name == "cap" {
			return nil, fmt.Errorf("invalid argument %s (%s) for cap", x.name, x.typeName())
		}
		n = seq.length
		if name == "cap" {
			n = seq.capacity
		}
	}
	it, err := s.basicType("int")
	if err != nil {
		return nil, err
	}
	return s.store(constant.MakeInt64(n), it, "")
}

func (s *Scope) realImag(name string, args []ast.Expr) (*evalValue, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("wrong number of arguments to %s: %d", name, len(args))
	}
	x, err := s.eval(args[0])
	if err != nil {
		return nil, err
	}
	c, err := s.scalar(x)
	if err != nil {
		return nil, err
	}
	if c.Kind() == constant.String || c.Kind() == constant.Bool {
		return nil, fmt.Errorf("invalid argument %s for %s", exprText(args[0]), name)
	}
	part := constant.Real(c)
	if name == "imag" {
		part = constant.Imag(c)
	}
	if x.typ == nil {
		return &evalValue{konst: part, reg: -1}, nil
	}
	ft := "float64"
	if b := godwarf.Basic(x.typ); b != nil && b.Size() == 8 {
		ft = "float32"
	}
	t, err := s.basicType(ft)
	if err != nil {
		return nil, err
	}
	return s.store(part, t, "")
}

func (s *Scope) complexOf(args []ast.Expr) (*evalValue, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("wrong number of arguments to complex: %d", len(args))
	}
	var parts [2]constant.Value
	for i, a := range args {
		x, err := s.eval(a)
		if err != nil {
			return nil, err
		}
		c, err := s.scalar(x)
		if err != nil {
			return nil, err
		}
		if c.Kind() != constant.Int && c.Kind() != constant.Float {
			return nil, fmt.Errorf("invalid argument %s for complex", exprText(a))
		}
		parts[i] = c
	}
	return &evalValue{konst: constant.BinaryOp(parts[0], token.ADD, constant.MakeImag(parts[1])), reg: -1}, nil
}

// convert implements T(x): between numeric types, integers and pointers,
// strings and byte/rune slices, and between types with the same
// underlying type.
func (s *Scope) convert(x *evalValue, typ godwarf.Type) (*evalValue, error) {
	if x.unreadable != nil {
		return nil, x.unreadable
	}
	dst := godwarf.ResolveTypedef(typ)
	if x.isNil {
		switch dst.(type) {
		case *godwarf.PtrType, *godwarf.MapType, *godwarf.ChanType, *godwarf.FuncType:
			return s.store(constant.MakeUint64(0), typ, "")
		}
		return nil, fmt.Errorf("can not convert nil to %s", value.TypeName(typ))
	}
	if x.typ != nil && value.SameType(godwarf.ResolveTypedef(x.typ), dst) || x.typ != nil && value.TypeName(godwarf.ResolveTypedef(x.typ)) == value.TypeName(dst) {
		return &evalValue{name: x.name, typ: typ, addr: x.addr, reg: x.reg}, nil
	}
	switch d := dst.(type) {
	case *godwarf.BasicType:
		c, err := s.scalar(x)
		if err != nil {
			return nil, err
		}
		if c.Kind() == constant.String || (c.Kind() == constant.Bool) != (d.Kind.String() == "bool") {
			return nil, fmt.Errorf("can not convert %s to %s", x.typeName(), value.TypeName(typ))
		}
		if x.typ == nil && godwarf.IsIntegerKind(d.Kind) && c.Kind() == constant.Float {
			if i := constant.ToInt(c); i.Kind() != constant.Int {
				return nil, fmt.Errorf("can not convert %s constant to %s", c, value.TypeName(typ))
			}
		}
		if godwarf.IsIntegerKind(d.Kind) {
			c = truncate(c)
		}
		r, err := fitKind(d.Kind, d.Size(), c)
		if err != nil {
			return nil, err
		}
		return s.store(r, typ, "")
	case *godwarf.PtrType:
		c, err := s.scalar(x)
		if err != nil {
			return nil, err
		}
		if c.Kind() != constant.Int {
			return nil, fmt.Errorf("can not convert %s to %s", x.typeName(), value.TypeName(typ))
		}
		return s.store(c, typ, "")
	case *godwarf.StringType:
		return s.toString(x, typ)
	case *godwarf.SliceType:
		return s.toSlice(x, typ, d)
	}
	return nil, fmt.Errorf("can not convert %s to %s", x.typeName(), value.TypeName(typ))
}

// truncate turns a float into the integer a Go conversion gives
// (rounding toward zero).
func truncate(c constant.Value) constant.Value {
	if c.Kind() != constant.Float {
		return c
	}
	f, _ := constant.Float64Val(c)
	return constant.MakeInt64(int64(f))
}

func (s *Scope) toString(x *evalValue, typ godwarf.Type) (*evalValue, error) {
	if x.typ == nil || godwarf.Basic(x.typ) != nil {
		c, err := s.scalar(x)
		if err != nil {
			return nil, err
		}
		switch c.Kind() {
		case constant.String:
			return s.store(c, typ, "")
		case constant.Int:
			r, ok := constant.Int64Val(c)
			if !ok || r < 0 || r > utf8.MaxRune {
				r = utf8.RuneError
			}
			return s.store(constant.MakeString(string(rune(r))), typ, "")
		}
		return nil, fmt.Errorf("can not convert %s to %s", x.typeName(), value.TypeName(typ))
	}
	seq, err := s.sequenceOf(x)
	if err != nil || seq.isString {
		if err == nil { // string(namedString)
			return &evalValue{name: x.name, typ: typ, addr: x.addr, reg: -1}, nil
		}
		return nil, fmt.Errorf("can not convert %s to %s", x.typeName(), value.TypeName(typ))
	}
	eb := godwarf.Basic(seq.elem)
	if eb == nil || (eb.Size() != 1 && eb.Size() != 4) || !godwarf.IsIntegerKind(eb.Kind) {
		return nil, fmt.Errorf("can not convert %s to %s", x.typeName(), value.TypeName(typ))
	}
	if seq.length*eb.Size() > maxStringRead {
		return nil, fmt.Errorf("%s is too long to convert (%d elements)", x.name, seq.length)
	}
	raw, err := s.readBytes(uint64(seq.base), seq.length*eb.Size())
	if err != nil {
		return nil, err
	}
	str := string(raw)
	if eb.Size() == 4 {
		runes := make([]rune, seq.length)
		for i := range runes {
			runes[i] = rune(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24)
		}
		str = string(runes)
	}
	return s.store(constant.MakeString(str), typ, "")
}

func (s *Scope) toSlice(x *evalValue, typ godwarf.Type, d *godwarf.SliceType) (*evalValue, error) {
	c, err := s.scalar(x)
	if err != nil || c.Kind() != constant.String {
		return nil, fmt.Errorf("can not convert %s to %s", x.typeName(), value.TypeName(typ))
	}
	str := constant.StringVal(c)
	eb := godwarf.Basic(d.Elem)
	if eb == nil || !godwarf.IsIntegerKind(eb.Kind) || (eb.Size() != 1 && eb.Size() != 4) {
		return nil, fmt.Errorf("can not convert %s to %s", x.typeName(), value.TypeName(typ))
	}
	data := []byte(str)
	n := int64(len(data))
	if eb.Size() == 4 {
		runes := []rune(str)
		n = int64(len(runes))
		data = make([]byte, 4*len(runes))
		for i, r := range runes {
			for j := 0; j < 4; j++ {
				data[4*i+j] = byte(uint32(r) >> (8 * j))
			}
		}
	}
	var base uint64
	if len(data) > 0 {
		if base, err = s.mem.Alloc(data); err != nil {
			return nil, err
		}
	}
	return s.header(typ, base, n, n)
}
