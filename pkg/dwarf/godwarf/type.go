// Package godwarf reads Go types from DWARF debug information. Unlike
// debug/dwarf's type reader it keeps the attributes the Go toolchain adds
// (kind, map key/element, embedded fields, runtime type offsets), and it
// decodes types lazily, one DIE at a time, with a cache.
package godwarf

import (
	"debug/dwarf"
	"reflect"
	"strconv"
)

// Go-specific DWARF attributes, as numbered in cmd/internal/dwarf.
const (
	AttrGoKind          dwarf.Attr = 0x2900 // reflect.Kind of the type
	AttrGoKey           dwarf.Attr = 0x2901 // map key type
	AttrGoElem          dwarf.Attr = 0x2902 // map, chan, slice element type
	AttrGoEmbeddedField dwarf.Attr = 0x2903 // struct member is an embedded field
	AttrGoRuntimeType   dwarf.Attr = 0x2904 // offset of the runtime type from runtime.types
	AttrGoPackageName   dwarf.Attr = 0x2905 // package name of a compile unit
	AttrGoDictIndex     dwarf.Attr = 0x2906 // dictionary index of a generic shape typedef
)

// Type is a decoded Go type.
type Type interface {
	// Common returns the attributes every type has.
	Common() *CommonType
	// String returns the Go spelling of the type, e.g. "map[string]int".
	String() string
	// Size returns the size of a value of the type in bytes.
	Size() int64
}

// CommonType holds the attributes shared by every type DIE.
type CommonType struct {
	Name     string       // Go name, e.g. "main.Point", "*int", "[]string"
	ByteSize int64        // size in bytes; 0 when the DIE has none
	Offset   dwarf.Offset // offset of the DIE in .debug_info
	GoKind   reflect.Kind // DW_AT_go_kind, reflect.Invalid when absent
	// RuntimeType is DW_AT_go_runtime_type: the offset of this type's
	// runtime descriptor from the start of runtime.types (0 when absent).
	RuntimeType uint64
}

// Common implements Type.
func (c *CommonType) Common() *CommonType { return c }

// Size implements Type.
func (c *CommonType) Size() int64 { return c.ByteSize }

// String implements Type.
func (c *CommonType) String() string { return c.Name }

// BasicType is a bool, integer, float or complex type, including named
// ones such as time.Duration whose DIE is a base type.
type BasicType struct {
	CommonType
	Kind reflect.Kind // Bool, Int*, Uint*, Uintptr, Float*, Complex*
}

// PtrType is a pointer; Elem is nil for unsafe.Pointer.
type PtrType struct {
	CommonType
	Elem Type
}

// String implements Type.
func (t *PtrType) String() string {
	if t.Name != "" {
		return t.Name
	}
	if t.Elem == nil {
		return "unsafe.Pointer"
	}
	return "*" + t.Elem.String()
}

// StructField is one member of a struct.
type StructField struct {
	Name       string
	Type       Type
	ByteOffset int64
	Embedded   bool // DW_AT_go_embedded_field
}

// StructType is a struct, and the layout behind strings, slices and
// interfaces.
type StructType struct {
	CommonType
	Fields []*StructField
}

// Field returns the field called name, or nil.
func (t *StructType) Field(name string) *StructField {
	for _, f := range t.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// ArrayType is a fixed-size array.
type ArrayType struct {
	CommonType
	Elem   Type
	Count  int64
	Stride int64 // distance between elements in bytes
}

// String implements Type.
func (t *ArrayType) String() string {
	if t.Name != "" {
		return t.Name
	}
	return "[" + strconv.FormatInt(t.Count, 10) + "]" + t.Elem.String()
}

// SliceType is a slice; its struct has fields array, len and cap.
type SliceType struct {
	StructType
	Elem Type
}

// StringType is a string; its struct has fields str and len.
type StringType struct {
	StructType
}

// TypedefType is a named type, or a Go type described through another
// type (maps, chans and interfaces point at their runtime representation).
type TypedefType struct {
	CommonType
	Type Type
	// DictIndex is DW_AT_go_dict_index for generic shape types, -1 if absent.
	DictIndex int64
}

// Size implements Type: a named type is as big as the type it names.
func (t *TypedefType) Size() int64 {
	if t.ByteSize == 0 && t.Type != nil {
		return t.Type.Size()
	}
	return t.ByteSize
}

// MapType is a map; Type is a pointer to the runtime's map header
// (hash<K,V> before Go 1.24, map<K,V> for Swiss tables).
type MapType struct {
	TypedefType
	Key, Elem Type
}

// ChanType is a channel; Type is a pointer to hchan<T>.
type ChanType struct {
	TypedefType
	Elem Type
}

// InterfaceType is an interface; Type is runtime.iface or runtime.eface.
type InterfaceType struct {
	TypedefType
}

// FuncType is a function type; its values are pointers to a funcval.
type FuncType struct {
	CommonType
	Params, Results []Type
}

// VoidType is the absence of a type (DW_TAG_unspecified_type or a
// missing DW_AT_type).
type VoidType struct {
	CommonType
}

// String implements Type.
func (t *VoidType) String() string { return "void" }

// UnsupportedType is a DIE whose tag this package does not decode.
type UnsupportedType struct {
	CommonType
	Tag dwarf.Tag
}

// ResolveTypedef follows named types down to the type that describes
// the value's representation. Maps, chans and interfaces stop at their
// own type, since their kind is what a reader needs.
func ResolveTypedef(t Type) Type {
	for i := 0; i < 100; i++ {
		td, ok := t.(*TypedefType)
		if !ok || td.Type == nil {
			return t
		}
		t = td.Type
	}
	return t
}

// IsEmptyInterface reports whether an interface is interface{}/any,
// whose runtime layout is eface (type pointer first) rather than iface.
func (t *InterfaceType) IsEmptyInterface() bool {
	st, ok := ResolveTypedef(t.Type).(*StructType)
	return ok && st.Field("_type") != nil
}
