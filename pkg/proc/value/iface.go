package value

import (
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// Bits of the runtime type descriptor that say the value is stored in
// the interface's data word itself rather than behind a pointer: Go 1.26
// moved the flag from Kind_ to TFlag (internal/abi).
const (
	kindDirectIface  = 1 << 5
	tflagDirectIface = 1 << 5
)

// loadInterface resolves an interface's dynamic type from the runtime type
// descriptor its eface/itab points at (mapped to DWARF through
// DW_AT_go_runtime_type) and loads the data as that type.
func (st *loadState) loadInterface(v *Variable, t *godwarf.InterfaceType, level int, mem MemoryReader) {
	layout, ok := godwarf.ResolveTypedef(t.Type).(*godwarf.StructType)
	if !ok {
		v.Unreadable = fmt.Errorf("invalid interface type %s: no runtime layout", v.Type)
		return
	}
	mem = st.cacheMemory(mem, v.Addr, layout.Size())
	dataField := layout.Field("data")
	if dataField == nil {
		v.Unreadable = errors.New("invalid interface type: no data field")
		return
	}
	var typeAddr uint64
	var descType godwarf.Type // the runtime's type descriptor struct
	switch {
	case layout.Field("_type") != nil: // eface
		f := layout.Field("_type")
		p, err := readUint(mem, v.Addr+uint64(f.ByteOffset), ptrSize)
		if err != nil {
			v.Unreadable = err
			return
		}
		typeAddr, descType = p, pointee(f.Type)
	case layout.Field("tab") != nil: // iface
		f := layout.Field("tab")
		tab, err := readUint(mem, v.Addr+uint64(f.ByteOffset), ptrSize)
		if err != nil {
			v.Unreadable = err
			return
		}
		if tab != 0 {
			itab, _ := godwarf.ResolveTypedef(pointee(f.Type)).(*godwarf.StructType)
			if itab == nil {
				v.Unreadable = errors.New("invalid interface type: bad itab type")
				return
			}
			tf := itab.Field("Type")
			if tf == nil {
				tf = itab.Field("_type")
			}
			if tf == nil {
				v.Unreadable = errors.New("invalid interface type: itab has no type field")
				return
			}
			if typeAddr, err = readUint(uncached(mem), tab+uint64(tf.ByteOffset), ptrSize); err != nil {
				v.Unreadable = fmt.Errorf("invalid interface type: %w", err)
				return
			}
			if typeAddr == 0 {
				// A non-nil itab always names a type: this is no interface
				// the program wrote (an uninitialised result slot, say).
				v.Unreadable = fmt.Errorf("invalid interface type: itab %#x has no type", tab)
				return
			}
			descType = pointee(tf.Type)
		}
	default:
		v.Unreadable = fmt.Errorf("invalid interface type %s: unknown layout", v.Type)
		return
	}
	dataAddr := v.Addr + uint64(dataField.ByteOffset)
	dataWord, err := readUint(mem, dataAddr, ptrSize)
	if err != nil {
		v.Unreadable = err
		return
	}
	if typeAddr == 0 {
		// nil interface: the data is "void" at whatever the data word holds.
		d := st.newVariable("", dataWord, &godwarf.VoidType{}, st.l.Mem)
		if dataWord != 0 {
			// The program never pairs a nil type with data: the words are
			// not an interface it wrote, so the data is shown as unreadable
			// (as Delve does) rather than as a clean nil.
			d.Unreadable = fmt.Errorf("nil interface type with data word %#x", dataWord)
		}
		v.Children = []Variable{*d}
		return
	}
	dyn, err := st.dynamicType(typeAddr)
	if err != nil {
		v.Unreadable = err
		return
	}
	// Built in place in its one-element Children (from the arena, if any).
	kids := st.l.arena().variables(1)
	data := &kids[0]
	_, isPtr := godwarf.ResolveTypedef(dyn).(*godwarf.PtrType)
	if isPtr || st.isDirectIface(typeAddr, descType) {
		st.initVariable(data, "data", dataAddr, dyn, mem)
	} else {
		st.initVariable(data, "data", dataWord, dyn, st.l.Mem)
	}
	if !st.tooDeep(level) {
		st.load(data, level, st.memFor(data, dataAddr, mem))
	} else {
		data.OnlyAddr = true
	}
	v.Children = kids
}

// memFor picks the memory a child is read through: the parent's prefetch
// when the child lives inside it, the target otherwise.
func (st *loadState) memFor(child *Variable, inside uint64, mem MemoryReader) MemoryReader {
	if child.Addr == inside {
		return mem
	}
	return st.l.Mem
}

func pointee(t godwarf.Type) godwarf.Type {
	if p, ok := godwarf.ResolveTypedef(t).(*godwarf.PtrType); ok {
		return p.Elem
	}
	return nil
}

// dynamicType maps a runtime type descriptor address to its DWARF type.
func (st *loadState) dynamicType(typeAddr uint64) (godwarf.Type, error) {
	if st.l.Types == nil || st.l.RuntimeTypes == 0 {
		return nil, errors.New("could not resolve interface type: no runtime type information")
	}
	if typeAddr < st.l.RuntimeTypes {
		return nil, fmt.Errorf("could not resolve interface type: descriptor %#x below runtime.types %#x", typeAddr, st.l.RuntimeTypes)
	}
	typ, err := st.l.Types.ByRuntimeType(typeAddr - st.l.RuntimeTypes)
	if err != nil {
		return nil, fmt.Errorf("could not resolve interface type: %w", err)
	}
	return typ, nil
}

// isDirectIface reads the descriptor's flags: a direct-iface value (a
// pointer-shaped type) sits in the data word, anything else behind it.
func (st *loadState) isDirectIface(typeAddr uint64, desc godwarf.Type) bool {
	s, ok := godwarf.ResolveTypedef(desc).(*godwarf.StructType)
	if !ok {
		return false
	}
	for _, c := range []struct {
		field string
		bit   uint64
	}{{"TFlag", tflagDirectIface}, {"Kind_", kindDirectIface}, {"kind", kindDirectIface}} {
		f := s.Field(c.field)
		if f == nil {
			continue
		}
		b, err := readUint(st.l.Mem, typeAddr+uint64(f.ByteOffset), 1)
		if err == nil && b&c.bit != 0 {
			return true
		}
	}
	return false
}
