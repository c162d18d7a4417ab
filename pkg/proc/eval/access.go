package eval

import (
	"errors"
	"fmt"
	"go/ast"
	"go/constant"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// field selects a struct field, following pointers and interfaces the way
// Delve does (p.X for a *T, iface.X when the interface holds a struct or
// pointer to one) and looking through embedded structs for promoted fields.
func (s *Scope) field(x *evalValue, name string) (*evalValue, error) {
	if x.unreadable != nil {
		return nil, x.unreadable
	}
	for i := 0; i < 2; i++ {
		switch godwarf.ResolveTypedef(x.typ).(type) {
		case *godwarf.PtrType:
			p, err := readWord(s.mem, x.addr)
			if err != nil {
				return nil, err
			}
			if p == 0 {
				return nil, fmt.Errorf("%s is nil", x.name)
			}
			d, err := s.deref(x)
			if err != nil {
				return nil, err
			}
			// The dereference is implicit in a selector, so fields keep
			// the name as written (c.P.X, not *c.P.X), as in Delve's
			// "c.P is nil".
			d.name = x.name
			x = d
		case *godwarf.InterfaceType:
			d, err := s.ifaceData(x)
			if err != nil {
				return nil, err
			}
			if d == nil {
				return nil, fmt.Errorf("%s is nil", x.name)
			}
			x = d
		}
	}
	st, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.StructType)
	if !ok || x.typ == nil {
		return nil, fmt.Errorf("%s (type %s) is not a struct", x.name, x.typeName())
	}
	if v := s.findField(x, st, name, 0); v != nil {
		return v, nil
	}
	return nil, fmt.Errorf("%s has no member %s", x.name, name)
}

// findField searches direct fields first, then embedded ones breadth
// first as Go's promotion rules do (shallowest depth wins).
func (s *Scope) findField(x *evalValue, st *godwarf.StructType, name string, depth int) *evalValue {
	if depth > 16 {
		return nil
	}
	for _, f := range st.Fields {
		if f.Name == name {
			return &evalValue{name: x.name + "." + name, typ: f.Type, addr: x.addr + uint64(f.ByteOffset), reg: -1}
		}
	}
	for _, f := range st.Fields {
		if !f.Embedded {
			continue
		}
		emb := &evalValue{name: x.name + "." + f.Name, typ: f.Type, addr: x.addr + uint64(f.ByteOffset), reg: -1}
		inner, ok := godwarf.ResolveTypedef(f.Type).(*godwarf.StructType)
		if pt, isPtr := godwarf.ResolveTypedef(f.Type).(*godwarf.PtrType); isPtr {
			d, err := s.deref(emb)
			if err != nil {
				continue
			}
			emb = d
			inner, ok = godwarf.ResolveTypedef(pt.Elem).(*godwarf.StructType)
		}
		if !ok {
			continue
		}
		if v := s.findField(emb, inner, name, depth+1); v != nil {
			return v
		}
	}
	return nil
}

// ifaceData returns the value an interface holds with its dynamic type,
// or nil for a nil interface. It asks the shared loader, which knows both
// runtime layouts and the direct-interface rule.
func (s *Scope) ifaceData(x *evalValue) (*evalValue, error) {
	cfg := value.LoadConfig{MaxVariableRecurse: 1}
	v := s.load(x, x.name, cfg)
	if v.Unreadable != nil {
		return nil, v.Unreadable
	}
	if len(v.Children) == 0 {
		return nil, nil
	}
	d := v.Children[0]
	if d.DwarfType == nil || d.Type == "void" || d.Kind == 0 {
		return nil, nil
	}
	return &evalValue{name: x.name, typ: d.DwarfType, addr: d.Addr, reg: -1}, nil
}

// typeAssert implements x.(T) and Delve's x.(data).
func (s *Scope) typeAssert(e *ast.TypeAssertExpr) (*evalValue, error) {
	x, err := s.eval(e.X)
	if err != nil {
		return nil, err
	}
	if x.unreadable != nil {
		return nil, x.unreadable
	}
	if _, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.InterfaceType); !ok || x.typ == nil {
		return nil, fmt.Errorf("expression %q not an interface", exprText(e.X))
	}
	d, err := s.ifaceData(x)
	if err != nil {
		return nil, err
	}
	if id, ok := e.Type.(*ast.Ident); ok && id.Name == "data" {
		if d == nil {
			return nil, fmt.Errorf("%s is nil", x.name)
		}
		return d, nil
	}
	if e.Type == nil {
		return nil, errors.New("type switches are not supported")
	}
	want, err := s.typeOf(e.Type)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, fmt.Errorf("interface conversion: %s is nil, not %s", x.typeName(), value.TypeName(want))
	}
	if !value.SameType(d.typ, want) {
		return nil, fmt.Errorf("interface conversion: %s is %s, not %s", x.typeName(), value.TypeName(d.typ), value.TypeName(want))
	}
	return d, nil
}

// intIndex evaluates an index or slice bound as a non-negative int.
func (s *Scope) intIndex(e ast.Expr) (int64, error) {
	v, err := s.eval(e)
	if err != nil {
		return 0, err
	}
	c, err := s.scalar(v)
	if err != nil {
		return 0, err
	}
	c = constant.ToInt(c)
	i, ok := constant.Int64Val(c)
	if c.Kind() != constant.Int || !ok {
		return 0, fmt.Errorf("index %s is not an integer", exprText(e))
	}
	if i < 0 {
		return 0, errIndexOutOfBounds
	}
	return i, nil
}

// errIndexOutOfBounds is Delve's wording for any index outside the data.
var errIndexOutOfBounds = errors.New("index out of bounds")

// sequence describes indexable data: elements of elem with stride from base.
type sequence struct {
	base, length, capacity int64
	elem                   godwarf.Type
	stride                 int64
	isString               bool
}

func (s *Scope) sequenceOf(x *evalValue) (*sequence, error) {
	switch t := godwarf.ResolveTypedef(x.typ).(type) {
	case *godwarf.ArrayType:
		return &sequence{base: int64(x.addr), length: t.Count, capacity: t.Count, elem: t.Elem, stride: t.Stride}, nil
	case *godwarf.SliceType:
		base, err := readWord(s.mem, x.addr)
		if err != nil {
			return nil, err
		}
		n, err := readWord(s.mem, x.addr+8)
		if err != nil {
			return nil, err
		}
		c, err := readWord(s.mem, x.addr+16)
		if err != nil {
			return nil, err
		}
		if int64(n) < 0 || int64(c) < int64(n) {
			return nil, fmt.Errorf("invalid slice header: len %d, cap %d", int64(n), int64(c))
		}
		return &sequence{base: int64(base), length: int64(n), capacity: int64(c), elem: t.Elem, stride: t.Elem.Size()}, nil
	case *godwarf.StringType:
		base, n, err := s.stringHeader(x)
		if err != nil {
			return nil, err
		}
		u8, err := s.basicType("uint8")
		if err != nil {
			return nil, err
		}
		return &sequence{base: int64(base), length: n, capacity: n, elem: u8, stride: 1, isString: true}, nil
	case *godwarf.PtrType:
		if _, ok := godwarf.ResolveTypedef(t.Elem).(*godwarf.ArrayType); ok {
			d, err := s.deref(x)
			if err != nil {
				return nil, err
			}
			return s.sequenceOf(d)
		}
	}
	return nil, fmt.Errorf("expression %q (%s) does not support indexing", x.name, x.typeName())
}

func (s *Scope) index(e *ast.IndexExpr) (*evalValue, error) {
	x, err := s.eval(e.X)
	if err != nil {
		return nil, err
	}
	if x.unreadable != nil {
		return nil, x.unreadable
	}
	if mt, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.MapType); ok {
		return s.mapIndex(x, mt, e.Index)
	}
	seq, err := s.sequenceOf(x)
	if err != nil {
		return nil, err
	}
	i, err := s.intIndex(e.Index)
	if err != nil {
		return nil, err
	}
	if i >= seq.length {
		return nil, errIndexOutOfBounds
	}
	addr := uint64(seq.base) + uint64(i)*uint64(seq.stride)
	v := &evalValue{name: x.name + "[" + exprText(e.Index) + "]", typ: seq.elem, addr: addr, reg: -1}
	if seq.isString { // a string's bytes are values, not variables
		b, err := s.readBytes(addr, 1)
		if err != nil {
			return nil, err
		}
		return s.store(constant.MakeUint64(uint64(b[0])), seq.elem, v.name)
	}
	return v, nil
}

// slice evaluates a[lo:hi] and a[lo:hi:max] on slices, arrays, pointers
// to arrays and strings.
func (s *Scope) slice(e *ast.SliceExpr) (*evalValue, error) {
	x, err := s.eval(e.X)
	if err != nil {
		return nil, err
	}
	if x.unreadable != nil {
		return nil, x.unreadable
	}
	if _, ok := godwarf.ResolveTypedef(x.typ).(*godwarf.MapType); ok {
		return s.sliceMap(x, e)
	}
	seq, err := s.sequenceOf(x)
	if err != nil {
		return nil, err
	}
	if _, isArr := godwarf.ResolveTypedef(x.typ).(*godwarf.ArrayType); isArr && !isTarget(x.addr) {
		return nil, fmt.Errorf("can not slice unaddressable array %s", x.name)
	}
	lo, hi, max := int64(0), seq.length, seq.capacity
	if e.Low != nil {
		if lo, err = s.intIndex(e.Low); err != nil {
			return nil, err
		}
	}
	if e.High != nil {
		if hi, err = s.intIndex(e.High); err != nil {
			return nil, err
		}
	}
	if e.Max != nil {
		if seq.isString {
			return nil, errors.New("3-index slice of string")
		}
		if max, err = s.intIndex(e.Max); err != nil {
			return nil, err
		}
	}
	limit := seq.capacity
	if seq.isString {
		limit = seq.length
	}
	if lo > hi || hi > max || max > limit {
		return nil, fmt.Errorf("index out of bounds: [%d:%d:%d] with capacity %d", lo, hi, max, limit)
	}
	base := uint64(seq.base) + uint64(lo)*uint64(seq.stride)
	if seq.isString {
		return s.header(x.typ, base, hi-lo, -1)
	}
	typ := x.typ
	if _, isSlice := godwarf.ResolveTypedef(typ).(*godwarf.SliceType); !isSlice {
		typ = s.sliceOf(seq.elem)
	}
	return s.header(typ, base, hi-lo, max-lo)
}

// header materializes a string (capacity < 0) or slice header.
func (s *Scope) header(typ godwarf.Type, base uint64, length, capacity int64) (*evalValue, error) {
	words := []uint64{base, uint64(length)}
	if capacity >= 0 {
		words = append(words, uint64(capacity))
	}
	data := make([]byte, 8*len(words))
	for i, w := range words {
		for j := 0; j < 8; j++ {
			data[8*i+j] = byte(w >> (8 * j))
		}
	}
	addr, err := s.mem.Alloc(data)
	if err != nil {
		return nil, err
	}
	return &evalValue{typ: typ, addr: addr, reg: -1}, nil
}
