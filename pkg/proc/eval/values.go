package eval

import (
	"encoding/binary"
	"errors"
	"fmt"
	"go/constant"
	"go/token"
	"math"
	"math/big"
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// evalValue is an intermediate result: a typed value whose bytes are at
// addr (in the target, or synthetic), an untyped constant, or nil.
type evalValue struct {
	name       string
	typ        godwarf.Type   // nil for untyped constants and nil
	addr       uint64         // where the bytes are, read through the scope's overlay
	konst      constant.Value // untyped constant, when typ == nil
	isRune     bool           // the untyped constant is a rune literal
	isNil      bool
	isConst    bool  // a named constant: printed without a constant's name, as Delve does
	reg        int   // DWARF register holding the whole value, -1 if none
	addrOnly   bool  // made by &: printed as an address, like Delve
	mapSkip    int64 // a map sliced as m[lo:]: entries skipped when loading
	unreadable error
}

// maxStringRead bounds the bytes of a string read to compute with it.
const maxStringRead = 1 << 20

func (v *evalValue) typeName() string {
	switch {
	case v.isNil:
		return "nil"
	case v.typ == nil:
		return "untyped " + kindName(v)
	}
	return value.TypeName(v.typ)
}

func kindName(v *evalValue) string {
	if v.konst == nil {
		return "nil"
	}
	switch v.konst.Kind() {
	case constant.Bool:
		return "bool"
	case constant.String:
		return "string"
	case constant.Int:
		if v.isRune {
			return "rune"
		}
		return "int"
	case constant.Float:
		return "float"
	case constant.Complex:
		return "complex"
	}
	return "constant"
}

// load turns a result into a loaded value.Variable.
func (s *Scope) load(v *evalValue, name string, cfg value.LoadConfig) *value.Variable {
	if v.unreadable != nil {
		return value.UnreadableVar(name, v.typ, v.unreadable)
	}
	if v.isNil {
		return &value.Variable{Name: name, Kind: reflect.Ptr}
	}
	if v.typ == nil {
		if out := exactInt(v, name); out != nil {
			return out
		}
		m, err := s.materialize(v, nil)
		if err != nil {
			return &value.Variable{Name: name, Unreadable: err}
		}
		v = m
	}
	if v.addrOnly {
		cfg.FollowPointers = false
	}
	if v.mapSkip > 0 {
		// The skipped entries are walked too: read the buckets by pages.
		if saved := s.mem.Parent; saved != nil {
			s.mem.Parent = newPageCache(saved)
			defer func() { s.mem.Parent = saved }()
		}
		return s.loader().LoadMapFrom(name, v.addr, v.typ, v.mapSkip, cfg)
	}
	l := s.loader()
	if v.isConst {
		l.Consts = nil
	}
	return l.Load(name, v.addr, v.typ, cfg)
}

// namedConstant makes the value of the constant called full ("main.High")
// of the binary's DWARF, with its type.
func (s *Scope) namedConstant(full, name string) (*evalValue, bool) {
	typ, n, err := s.prog.Types.Constant(full)
	if err != nil {
		return nil, false
	}
	if b := godwarf.Basic(typ); b == nil || !godwarf.IsIntegerKind(b.Kind) {
		return nil, false
	}
	v, err := s.store(constant.MakeInt64(n), typ, name)
	if err != nil {
		return &evalValue{name: name, reg: -1, unreadable: err}, true
	}
	v.isConst = true
	return v, true
}

// exactInt shows an untyped integer constant int64 cannot hold as the
// exact number it is (Go's untyped constants are exact), with Delve's kind
// for it: uint64 above the int64 range, int below. Nil when it fits: then
// the constant takes its default type like any other.
func exactInt(v *evalValue, name string) *value.Variable {
	c := v.konst
	if c == nil || c.Kind() != constant.Int || v.isRune {
		return nil
	}
	if _, ok := constant.Int64Val(c); ok {
		return nil
	}
	kind := reflect.Int
	if constant.Sign(c) > 0 {
		kind = reflect.Uint64
	}
	return &value.Variable{Name: name, Kind: kind, Value: c.ExactString()}
}

func isFloat(k reflect.Kind) bool { return k == reflect.Float32 || k == reflect.Float64 }

func isComplex(k reflect.Kind) bool { return k == reflect.Complex64 || k == reflect.Complex128 }

// readBytes reads n bytes at addr through the overlay.
func (s *Scope) readBytes(addr uint64, n int64) ([]byte, error) {
	if n < 0 || n > maxStringRead {
		return nil, fmt.Errorf("invalid read of %d bytes", n)
	}
	buf := make([]byte, n)
	if n == 0 {
		return buf, nil
	}
	got, err := s.mem.ReadMemory(buf, addr)
	if err != nil {
		return nil, fmt.Errorf("reading %d bytes at %#x: %w", n, addr, err)
	}
	if got != int(n) {
		return nil, fmt.Errorf("reading %d bytes at %#x: short read", n, addr)
	}
	return buf, nil
}

// scalar reads a bool, number, string or pointer as a constant. Pointers,
// maps, chans and funcs give their address word as an unsigned integer.
func (s *Scope) scalar(v *evalValue) (constant.Value, error) {
	if v.unreadable != nil {
		return nil, v.unreadable
	}
	if v.typ == nil {
		if v.isNil {
			return constant.MakeUint64(0), nil
		}
		return v.konst, nil
	}
	switch t := godwarf.ResolveTypedef(v.typ).(type) {
	case *godwarf.BasicType:
		b, err := s.readBytes(v.addr, t.Size())
		if err != nil {
			return nil, err
		}
		return decodeBasic(t.Kind, b)
	case *godwarf.PtrType, *godwarf.MapType, *godwarf.ChanType, *godwarf.FuncType:
		w, err := readWord(s.mem, v.addr)
		if err != nil {
			return nil, err
		}
		return constant.MakeUint64(w), nil
	case *godwarf.StringType:
		base, n, err := s.stringHeader(v)
		if err != nil {
			return nil, err
		}
		if n > maxStringRead {
			return nil, fmt.Errorf("string of %d bytes is too long to compute with", n)
		}
		b, err := s.readBytes(base, n)
		if err != nil {
			return nil, err
		}
		return constant.MakeString(string(b)), nil
	}
	return nil, fmt.Errorf("%s is not a scalar value", v.typeName())
}

// stringHeader reads a string's data pointer and length.
func (s *Scope) stringHeader(v *evalValue) (uint64, int64, error) {
	base, err := readWord(s.mem, v.addr)
	if err != nil {
		return 0, 0, err
	}
	n, err := readWord(s.mem, v.addr+8)
	if err != nil {
		return 0, 0, err
	}
	if int64(n) < 0 {
		return 0, 0, fmt.Errorf("invalid string length %d", int64(n))
	}
	return base, int64(n), nil
}

func decodeBasic(k reflect.Kind, b []byte) (constant.Value, error) {
	var u uint64
	switch len(b) {
	case 1:
		u = uint64(b[0])
	case 2:
		u = uint64(binary.LittleEndian.Uint16(b))
	case 4:
		u = uint64(binary.LittleEndian.Uint32(b))
	case 8:
		u = binary.LittleEndian.Uint64(b)
	case 16:
	default:
		return nil, fmt.Errorf("invalid size %d for %s", len(b), k)
	}
	switch {
	case k == reflect.Bool:
		return constant.MakeBool(u != 0), nil
	case godwarf.IsUnsignedKind(k):
		return constant.MakeUint64(u), nil
	case godwarf.IsIntegerKind(k):
		shift := 64 - 8*uint(len(b))
		return constant.MakeInt64(int64(u<<shift) >> shift), nil
	case k == reflect.Float32:
		return constant.MakeFloat64(float64(math.Float32frombits(uint32(u)))), nil
	case k == reflect.Float64:
		return constant.MakeFloat64(math.Float64frombits(u)), nil
	case k == reflect.Complex64 && len(b) == 8:
		re := constant.MakeFloat64(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
		im := constant.MakeFloat64(float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4:]))))
		return constant.BinaryOp(re, token.ADD, constant.MakeImag(im)), nil
	case k == reflect.Complex128 && len(b) == 16:
		re := constant.MakeFloat64(math.Float64frombits(binary.LittleEndian.Uint64(b)))
		im := constant.MakeFloat64(math.Float64frombits(binary.LittleEndian.Uint64(b[8:])))
		return constant.BinaryOp(re, token.ADD, constant.MakeImag(im)), nil
	}
	return nil, fmt.Errorf("unsupported kind %s", k)
}

// encodeBasic writes c as a value of kind k in size bytes. Integers wrap
// to the size, as a conversion in Go does.
func encodeBasic(k reflect.Kind, size int64, c constant.Value) ([]byte, error) {
	b := make([]byte, size)
	switch {
	case k == reflect.Bool:
		if c.Kind() != constant.Bool {
			return nil, fmt.Errorf("can not convert %s constant to bool", c)
		}
		if constant.BoolVal(c) {
			b[0] = 1
		}
	case godwarf.IsIntegerKind(k):
		i := constant.ToInt(c)
		if i.Kind() != constant.Int {
			return nil, fmt.Errorf("can not convert %s constant to %s", c, k)
		}
		u := wrapInt(i)
		for j := int64(0); j < size && j < 8; j++ {
			b[j] = byte(u >> (8 * j))
		}
	case isFloat(k):
		f := constant.ToFloat(c)
		if f.Kind() != constant.Float && f.Kind() != constant.Int {
			return nil, fmt.Errorf("can not convert %s constant to %s", c, k)
		}
		x, _ := constant.Float64Val(f)
		if size == 4 {
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(x)))
		} else {
			binary.LittleEndian.PutUint64(b, math.Float64bits(x))
		}
	case isComplex(k):
		cc := constant.ToComplex(c)
		if cc.Kind() != constant.Complex {
			return nil, fmt.Errorf("can not convert %s constant to %s", c, k)
		}
		re, _ := constant.Float64Val(constant.Real(cc))
		im, _ := constant.Float64Val(constant.Imag(cc))
		if size == 8 {
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(re)))
			binary.LittleEndian.PutUint32(b[4:], math.Float32bits(float32(im)))
		} else {
			binary.LittleEndian.PutUint64(b, math.Float64bits(re))
			binary.LittleEndian.PutUint64(b[8:], math.Float64bits(im))
		}
	default:
		return nil, fmt.Errorf("unsupported kind %s", k)
	}
	return b, nil
}

// wrapInt returns the low 64 bits of an integer constant of any size.
func wrapInt(c constant.Value) uint64 {
	if u, ok := constant.Uint64Val(c); ok {
		return u
	}
	if i, ok := constant.Int64Val(c); ok {
		return uint64(i)
	}
	bi := new(big.Int)
	if bv, ok := constant.Val(c).(*big.Int); ok {
		bi.Set(bv)
	}
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))
	return new(big.Int).And(bi, mask).Uint64()
}

// fitKind reduces a computed constant to what a variable of kind k holds:
// integers wrap, float32 rounds.
func fitKind(k reflect.Kind, size int64, c constant.Value) (constant.Value, error) {
	b, err := encodeBasic(k, size, c)
	if err != nil {
		return nil, err
	}
	return decodeBasic(k, b)
}

// materialize stores a constant (or the scalar c) as a value of type typ in
// synthetic memory; typ nil picks the constant's default type.
func (s *Scope) materialize(v *evalValue, typ godwarf.Type) (*evalValue, error) {
	c := v.konst
	if typ == nil {
		if v.isNil {
			return nil, errors.New("use of untyped nil")
		}
		typ = s.defaultType(v)
	}
	return s.store(c, typ, v.name)
}

// store writes constant c as a value of type typ in synthetic memory.
func (s *Scope) store(c constant.Value, typ godwarf.Type, name string) (*evalValue, error) {
	var data []byte
	switch t := godwarf.ResolveTypedef(typ).(type) {
	case *godwarf.BasicType:
		b, err := encodeBasic(t.Kind, t.Size(), c)
		if err != nil {
			return nil, err
		}
		data = b
	case *godwarf.StringType:
		if c.Kind() != constant.String {
			return nil, fmt.Errorf("can not convert %s constant to string", c)
		}
		str := constant.StringVal(c)
		var base uint64
		if len(str) > 0 {
			var err error
			if base, err = s.mem.Alloc([]byte(str)); err != nil {
				return nil, err
			}
		}
		data = make([]byte, 16)
		binary.LittleEndian.PutUint64(data, base)
		binary.LittleEndian.PutUint64(data[8:], uint64(len(str)))
	case *godwarf.PtrType, *godwarf.MapType, *godwarf.ChanType, *godwarf.FuncType:
		i := constant.ToInt(c)
		if i.Kind() != constant.Int {
			return nil, fmt.Errorf("can not convert %s constant to %s", c, value.TypeName(typ))
		}
		data = make([]byte, 8)
		binary.LittleEndian.PutUint64(data, wrapInt(i))
	default:
		return nil, fmt.Errorf("can not store a constant as %s", value.TypeName(typ))
	}
	addr, err := s.mem.Alloc(data)
	if err != nil {
		return nil, err
	}
	return &evalValue{name: name, typ: typ, addr: addr, reg: -1}, nil
}

// defaultType is the type an untyped constant takes when nothing else
// gives it one.
func (s *Scope) defaultType(v *evalValue) godwarf.Type {
	name := "int"
	switch v.konst.Kind() {
	case constant.Bool:
		name = "bool"
	case constant.String:
		name = "string"
	case constant.Float:
		name = "float64"
	case constant.Complex:
		name = "complex128"
	case constant.Int:
		if v.isRune {
			name = "int32"
		}
	}
	t, _ := s.basicType(name)
	return t
}
