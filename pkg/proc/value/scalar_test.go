package value

import (
	"encoding/binary"
	"reflect"
	"syscall"
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

// smallReads serves reads of at most 8 bytes and offers no view, so that
// no block can be cached and every element goes through load one by one.
type smallReads struct{ mem segments }

func (m smallReads) ReadMemory(buf []byte, addr uint64) (int, error) {
	if len(buf) > 8 {
		return 0, syscall.EFAULT
	}
	return m.mem.ReadMemory(buf, addr)
}

// TestScalarElementsMatchLoad loads arrays and slices of predeclared
// integers and bools from a cached block (loadScalars) and element by
// element, and requires the same Variables, values, types and addresses.
func TestScalarElementsMatchLoad(t *testing.T) {
	basic := func(name string, kind reflect.Kind, size int64) *godwarf.BasicType {
		return &godwarf.BasicType{CommonType: godwarf.CommonType{Name: name, ByteSize: size}, Kind: kind}
	}
	data := make([]byte, 64)
	for i := range data {
		data[i] = byte(i*37 + 200) // crosses 100 and the sign bit
	}
	const base = 0x2000
	for _, elem := range []*godwarf.BasicType{
		basic("uint8", reflect.Uint8, 1), basic("int8", reflect.Int8, 1), basic("int16", reflect.Int16, 2),
		basic("uint32", reflect.Uint32, 4), basic("int", reflect.Int, 8), basic("bool", reflect.Bool, 1),
	} {
		n := int64(len(data)) / elem.ByteSize
		arr := &godwarf.ArrayType{CommonType: godwarf.CommonType{Name: "[N]" + elem.Name, ByteSize: int64(len(data))}, Elem: elem, Count: n, Stride: elem.ByteSize}
		for _, cfg := range []LoadConfig{DefaultLoadConfig, {MaxArrayValues: 5, MaxStringLen: 64}} {
			fast := (&Loader{Mem: segments{{base, data}}, Arena: &Arena{}}).Load("a", base, arr, cfg)
			slow := (&Loader{Mem: smallReads{segments{{base, data}}}}).Load("a", base, arr, cfg)
			if fast.Unreadable != nil || len(fast.Children) == 0 {
				t.Fatalf("%s: %v, %d children", arr.Name, fast.Unreadable, len(fast.Children))
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("%s (%d values): from a block\n%+v\none by one\n%+v", arr.Name, cfg.MaxArrayValues, fast.Children[:3], slow.Children[:3])
			}
		}
	}
}
