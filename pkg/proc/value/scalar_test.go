package value

import (
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// TestScalarMatchesLoad formats every predeclared integer and bool type
// from bytes at the edges of its range, and requires Load's text and type.
func TestScalarMatchesLoad(t *testing.T) {
	kinds := []struct {
		name string
		kind reflect.Kind
		size int64
	}{
		{"int", reflect.Int, 8}, {"int8", reflect.Int8, 1}, {"int16", reflect.Int16, 2}, {"int32", reflect.Int32, 4},
		{"int64", reflect.Int64, 8}, {"uint", reflect.Uint, 8}, {"uint8", reflect.Uint8, 1}, {"uint16", reflect.Uint16, 2},
		{"uint32", reflect.Uint32, 4}, {"uint64", reflect.Uint64, 8}, {"uintptr", reflect.Uintptr, 8}, {"bool", reflect.Bool, 1},
	}
	patterns := []uint64{0, 1, 7, 99, 100, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
		0xffffffff, 1 << 40, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, 0x0123456789abcdef}
	for _, k := range kinds {
		typ := &godwarf.BasicType{CommonType: godwarf.CommonType{Name: k.name, ByteSize: k.size}, Kind: k.kind}
		s, ok := ScalarOf(typ)
		if !ok {
			t.Fatalf("%s: not a scalar", k.name)
		}
		if s.Size() != int(k.size) {
			t.Fatalf("%s: size %d", k.name, s.Size())
		}
		for _, p := range patterns {
			data := binary.LittleEndian.AppendUint64(nil, p)
			mem := segments{{0x1000, data}}
			for _, arena := range []*Arena{nil, {}} {
				l := &Loader{Mem: mem, Arena: arena}
				v := l.Load("x", 0x1000, typ, DefaultLoadConfig)
				got := string(s.Append([]byte("prefix "), data))
				if v.Unreadable != nil || got != "prefix "+v.Value || s.Type != v.Type {
					t.Errorf("%s %#x: Scalar %q (%s), Load %q (%s, %v)", k.name, p, got, s.Type, v.Value, v.Type, v.Unreadable)
				}
			}
		}
	}
}

// TestScalarRefusesNamedAndOthers: a named integer may be a constant's
// type, whose name Load prints; floats, strings and typedefs go through
// Load as well.
func TestScalarRefusesNamedAndOthers(t *testing.T) {
	intT := &godwarf.BasicType{CommonType: godwarf.CommonType{Name: "int", ByteSize: 8}, Kind: reflect.Int}
	for _, typ := range []godwarf.Type{
		&godwarf.BasicType{CommonType: godwarf.CommonType{Name: "main.Color", ByteSize: 8}, Kind: reflect.Int},
		&godwarf.BasicType{CommonType: godwarf.CommonType{Name: "float64", ByteSize: 8}, Kind: reflect.Float64},
		&godwarf.BasicType{CommonType: godwarf.CommonType{Name: "int24", ByteSize: 3}, Kind: reflect.Int},
		&godwarf.TypedefType{CommonType: godwarf.CommonType{Name: "main.N", ByteSize: 8}, Type: intT},
		&godwarf.PtrType{CommonType: godwarf.CommonType{Name: "*int", ByteSize: 8}, Elem: intT},
	} {
		if _, ok := ScalarOf(typ); ok {
			t.Errorf("%s: taken as a scalar", typ.Common().Name)
		}
	}
}
