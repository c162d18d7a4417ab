package value

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// Scalar formats a value of a predeclared integer or bool type straight
// from its bytes, as Load would print it: a tracer's hot function is
// mostly called with ints, and building a Variable to print one cost more
// than the rest of its event. Only predeclared types qualify: a named type
// may have constants, which Load names ("Green (1)").
type Scalar struct {
	kind reflect.Kind // Int, Uint or Bool
	size int
	// Type is the type's name, as Load sets Variable.Type.
	Type string
}

// ScalarOf reports how a value of typ is formatted from its bytes, if it
// can be.
func ScalarOf(typ godwarf.Type) (Scalar, bool) {
	bt, ok := typ.(*godwarf.BasicType)
	if !ok || strings.Contains(bt.Name, ".") {
		return Scalar{}, false
	}
	s := Scalar{size: int(bt.Size()), Type: TypeName(typ)}
	switch bt.Kind {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s.kind = reflect.Int
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s.kind = reflect.Uint
	case reflect.Bool:
		s.kind = reflect.Bool
		return s, s.size == 1
	default:
		return Scalar{}, false
	}
	switch s.size {
	case 1, 2, 4, 8:
		return s, true
	}
	return Scalar{}, false
}

// Size is the number of bytes Append reads.
func (s Scalar) Size() int { return s.size }

// Append appends the text of the value whose bytes begin data, which
// holds at least Size bytes.
func (s Scalar) Append(b, data []byte) []byte {
	if s.kind == reflect.Bool {
		return strconv.AppendBool(b, data[0] != 0)
	}
	u := littleEndian(data, s.size)
	if s.kind == reflect.Uint {
		return strconv.AppendUint(b, u, 10)
	}
	return strconv.AppendInt(b, signExtend(u, s.size), 10)
}

// loadScalars loads the count elements of array or slice v when they are
// of a predeclared integer or bool type and their bytes are in the block
// mem caches: a []byte or [N]uint8 field is dozens of elements, each of
// which would otherwise go through the whole of initVariable and load.
// The Variables are those load makes. It reports false when it did not
// apply.
func (st *loadState) loadScalars(v *Variable, elem godwarf.Type, stride, count int64, mem MemoryReader) bool {
	sc, ok := ScalarOf(elem)
	if !ok || int64(sc.size) != stride {
		return false
	}
	c, ok := mem.(*cachedMemory)
	n := uint64(stride * count)
	if !ok || v.Base < c.base || v.Base-c.base > uint64(len(c.data)) || n > uint64(len(c.data))-(v.Base-c.base) {
		return false
	}
	data := c.data[v.Base-c.base:]
	a := st.l.arena()
	v.Children = a.variables(int(count))
	for i := range v.Children {
		b := data[i*sc.size:]
		ev := &v.Children[i]
		*ev = Variable{Type: sc.Type, Kind: sc.kind, Addr: v.Base + uint64(i)*uint64(stride), DwarfType: elem, loaded: true}
		switch sc.kind {
		case reflect.Bool:
			ev.Value = strconv.FormatBool(b[0] != 0)
		case reflect.Uint:
			ev.Value = a.formatUint(littleEndian(b, sc.size))
		default:
			ev.Value = a.formatInt(signExtend(littleEndian(b, sc.size), sc.size))
		}
	}
	st.nodes += int(count)
	return true
}
