package godwarf

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
)

// ErrNotFound is returned when no type has the requested name or runtime
// type offset.
var ErrNotFound = errors.New("type not found")

// maxTypeDepth bounds nested decoding so that corrupt DWARF cannot
// recurse without end; real Go types nest far less deeply.
const maxTypeDepth = 500

// Types decodes Go types from one binary's DWARF on demand. It is safe
// for concurrent use.
type Types struct {
	data *dwarf.Data

	mu    sync.Mutex
	cache map[dwarf.Offset]Type

	// The index is filled lazily, one compile unit at a time, only as far
	// as a lookup needs: scan remembers where the last lookup stopped.
	names    map[string]dwarf.Offset
	rtypes   map[uint64]dwarf.Offset
	scan     *dwarf.Reader
	scanDone bool

	consts constIndex
}

// New returns a type reader over d. Nothing is read until a type is asked for.
func New(d *dwarf.Data) *Types {
	return &Types{
		data:   d,
		cache:  make(map[dwarf.Offset]Type),
		names:  make(map[string]dwarf.Offset),
		rtypes: make(map[uint64]dwarf.Offset),
	}
}

// Data returns the DWARF data the types are read from.
func (t *Types) Data() *dwarf.Data { return t.data }

// Type returns the type whose DIE is at off.
func (t *Types) Type(off dwarf.Offset) (Type, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.readType(off, 0)
}

// ByName returns the type called name, as Go spells it ("main.Point",
// "[]int", "runtime.g"). For named structs it returns the typedef that Go
// variables refer to.
func (t *Types) ByName(name string) (Type, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	off, ok, err := scanFor(t, t.names, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return t.readType(off, 0)
}

// ByRuntimeType returns the type whose runtime descriptor is at offset off
// from runtime.types (the DW_AT_go_runtime_type value). Interfaces store
// descriptor addresses, so callers subtract the runtime.types address.
func (t *Types) ByRuntimeType(off uint64) (Type, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	doff, ok, err := scanFor(t, t.rtypes, off)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no type with runtime type offset %#x", ErrNotFound, off)
	}
	return t.readType(doff, 0)
}

// scanFor looks key up in one of the indexes scanUnit fills, scanning
// further compile units until the key appears or every unit was read.
func scanFor[K comparable](t *Types, index map[K]dwarf.Offset, key K) (dwarf.Offset, bool, error) {
	off, ok := index[key]
	for !ok && !t.scanDone {
		if err := t.scanUnit(); err != nil {
			return 0, false, err
		}
		off, ok = index[key]
	}
	return off, ok, nil
}

// isTypeTag reports whether a top-level DIE with this tag describes a type.
func isTypeTag(tag dwarf.Tag) bool {
	switch tag {
	case dwarf.TagBaseType, dwarf.TagPointerType, dwarf.TagStructType, dwarf.TagArrayType,
		dwarf.TagTypedef, dwarf.TagSubroutineType, dwarf.TagUnspecifiedType:
		return true
	}
	return false
}

// scanUnit indexes the top-level type DIEs of the next compile unit.
// The first DIE with a given name wins: the Go linker emits a named
// struct before the typedef with the same name, but variables refer to
// the typedef, so typedefs replace structs of the same name.
func (t *Types) scanUnit() error {
	if t.scan == nil {
		t.scan = t.data.Reader()
	}
	cu, err := t.scan.Next()
	if err != nil {
		t.scanDone = true
		return fmt.Errorf("reading compile unit: %w", err)
	}
	if cu == nil {
		t.scanDone = true
		return nil
	}
	if cu.Tag != dwarf.TagCompileUnit && cu.Tag != dwarf.TagPartialUnit {
		if cu.Children {
			t.scan.SkipChildren()
		}
		return nil
	}
	if !cu.Children {
		return nil
	}
	for {
		e, err := t.scan.Next()
		if err != nil {
			t.scanDone = true
			return fmt.Errorf("reading DIE in compile unit at %#x: %w", cu.Offset, err)
		}
		if e == nil {
			t.scanDone = true
			return nil
		}
		if e.Tag == 0 {
			return nil
		}
		if isTypeTag(e.Tag) {
			if name, ok := e.Val(dwarf.AttrName).(string); ok {
				prev, seen := t.names[name]
				if !seen || (e.Tag == dwarf.TagTypedef && t.tagAt(prev) == dwarf.TagStructType) {
					t.names[name] = e.Offset
				}
			}
			if rt, ok := e.Val(AttrGoRuntimeType).(uint64); ok && rt != 0 {
				if _, seen := t.rtypes[rt]; !seen {
					t.rtypes[rt] = e.Offset
				}
			}
		}
		if e.Children {
			t.scan.SkipChildren()
		}
	}
}

func (t *Types) tagAt(off dwarf.Offset) dwarf.Tag {
	r := t.data.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil {
		return 0
	}
	return e.Tag
}

// entryAt reads the DIE at off and, if it has children, the children
// one level down.
func (t *Types) entryAt(off dwarf.Offset) (*dwarf.Entry, []*dwarf.Entry, error) {
	r := t.data.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil {
		return nil, nil, fmt.Errorf("reading type DIE at %#x: %w", off, err)
	}
	if e == nil {
		return nil, nil, fmt.Errorf("no type DIE at %#x", off)
	}
	var kids []*dwarf.Entry
	if e.Children {
		for {
			c, err := r.Next()
			if err != nil {
				return nil, nil, fmt.Errorf("reading children of type DIE at %#x: %w", off, err)
			}
			if c == nil || c.Tag == 0 {
				break
			}
			kids = append(kids, c)
			if c.Children {
				r.SkipChildren()
			}
		}
	}
	return e, kids, nil
}

// readType decodes the type at off. The type is cached before its
// components are decoded, so recursive types (type Node struct{ next *Node })
// terminate.
func (t *Types) readType(off dwarf.Offset, depth int) (Type, error) {
	if typ, ok := t.cache[off]; ok {
		return typ, nil
	}
	if depth > maxTypeDepth {
		return nil, fmt.Errorf("type at %#x nests more than %d levels", off, maxTypeDepth)
	}
	e, kids, err := t.entryAt(off)
	if err != nil {
		return nil, err
	}
	common := CommonType{Offset: off}
	common.Name, _ = e.Val(dwarf.AttrName).(string)
	common.ByteSize, _ = e.Val(dwarf.AttrByteSize).(int64)
	if k, ok := e.Val(AttrGoKind).(int64); ok {
		common.GoKind = reflect.Kind(k)
	}
	common.RuntimeType, _ = e.Val(AttrGoRuntimeType).(uint64)

	sub := func(attr dwarf.Attr) (Type, error) {
		o, ok := e.Val(attr).(dwarf.Offset)
		if !ok {
			return nil, nil
		}
		return t.readType(o, depth+1)
	}

	switch e.Tag {
	case dwarf.TagBaseType:
		enc, _ := e.Val(dwarf.AttrEncoding).(int64)
		typ := &BasicType{CommonType: common, Kind: basicKind(common.GoKind, enc, common.ByteSize)}
		t.cache[off] = typ
		return typ, nil

	case dwarf.TagPointerType:
		typ := &PtrType{CommonType: common}
		if typ.ByteSize == 0 {
			typ.ByteSize = 8
		}
		t.cache[off] = typ
		if typ.Elem, err = sub(dwarf.AttrType); err != nil {
			return nil, err
		}
		return typ, nil

	case dwarf.TagStructType:
		return t.readStruct(common, kids, e, depth)

	case dwarf.TagArrayType:
		typ := &ArrayType{CommonType: common, Count: -1}
		t.cache[off] = typ
		if typ.Elem, err = sub(dwarf.AttrType); err != nil {
			return nil, err
		}
		if typ.Elem == nil {
			return nil, fmt.Errorf("array type at %#x has no element type", off)
		}
		for _, k := range kids {
			if k.Tag != dwarf.TagSubrangeType {
				continue
			}
			if c, ok := k.Val(dwarf.AttrCount).(int64); ok {
				typ.Count = c
			} else if ub, ok := k.Val(dwarf.AttrUpperBound).(int64); ok {
				typ.Count = ub + 1
			}
		}
		if typ.Count < 0 {
			typ.Count = 0
		}
		typ.Stride = typ.Elem.Size()
		if bs, ok := e.Val(dwarf.AttrStrideSize).(int64); ok {
			typ.Stride = bs / 8
		}
		return typ, nil

	case dwarf.TagTypedef:
		td := TypedefType{CommonType: common, DictIndex: -1}
		if di, ok := e.Val(AttrGoDictIndex).(int64); ok {
			td.DictIndex = di
		}
		var typ Type
		var fill func() error
		switch common.GoKind {
		case reflect.Map:
			m := &MapType{TypedefType: td}
			typ = m
			fill = func() error {
				var err error
				if m.Type, err = sub(dwarf.AttrType); err != nil {
					return err
				}
				if m.Key, err = sub(AttrGoKey); err != nil {
					return err
				}
				m.Elem, err = sub(AttrGoElem)
				return err
			}
		case reflect.Chan:
			c := &ChanType{TypedefType: td}
			typ = c
			fill = func() error {
				var err error
				if c.Type, err = sub(dwarf.AttrType); err != nil {
					return err
				}
				c.Elem, err = sub(AttrGoElem)
				return err
			}
		case reflect.Interface:
			i := &InterfaceType{TypedefType: td}
			typ = i
			fill = func() error {
				var err error
				i.Type, err = sub(dwarf.AttrType)
				return err
			}
		default:
			p := &td
			typ = p
			fill = func() error {
				var err error
				p.Type, err = sub(dwarf.AttrType)
				return err
			}
		}
		t.cache[off] = typ
		if err := fill(); err != nil {
			return nil, err
		}
		return typ, nil

	case dwarf.TagSubroutineType:
		typ := &FuncType{CommonType: common}
		if typ.ByteSize == 0 {
			typ.ByteSize = 8
		}
		t.cache[off] = typ
		for _, k := range kids {
			if k.Tag != dwarf.TagFormalParameter {
				continue
			}
			o, ok := k.Val(dwarf.AttrType).(dwarf.Offset)
			if !ok {
				continue
			}
			pt, err := t.readType(o, depth+1)
			if err != nil {
				return nil, err
			}
			if isOut, _ := k.Val(dwarf.AttrVarParam).(bool); isOut {
				typ.Results = append(typ.Results, pt)
			} else {
				typ.Params = append(typ.Params, pt)
			}
		}
		return typ, nil

	case dwarf.TagUnspecifiedType:
		typ := &VoidType{CommonType: common}
		t.cache[off] = typ
		return typ, nil
	}
	typ := &UnsupportedType{CommonType: common, Tag: e.Tag}
	t.cache[off] = typ
	return typ, nil
}

func (t *Types) readStruct(common CommonType, kids []*dwarf.Entry, e *dwarf.Entry, depth int) (Type, error) {
	st := StructType{CommonType: common}
	var typ Type
	var fields *[]*StructField
	switch common.GoKind {
	case reflect.Slice:
		s := &SliceType{StructType: st}
		typ, fields = s, &s.Fields
	case reflect.String:
		s := &StringType{StructType: st}
		typ, fields = s, &s.Fields
	default:
		s := &st
		typ, fields = s, &s.Fields
	}
	t.cache[common.Offset] = typ
	for _, k := range kids {
		if k.Tag != dwarf.TagMember {
			continue
		}
		f := &StructField{}
		f.Name, _ = k.Val(dwarf.AttrName).(string)
		f.Embedded, _ = k.Val(AttrGoEmbeddedField).(bool)
		f.ByteOffset, _ = MemberOffset(k)
		o, ok := k.Val(dwarf.AttrType).(dwarf.Offset)
		if !ok {
			return nil, fmt.Errorf("struct member %s.%s has no type", common.Name, f.Name)
		}
		ft, err := t.readType(o, depth+1)
		if err != nil {
			return nil, err
		}
		f.Type = ft
		*fields = append(*fields, f)
	}
	if s, ok := typ.(*SliceType); ok {
		if arr := s.Field("array"); arr != nil {
			if p, ok := arr.Type.(*PtrType); ok {
				s.Elem = p.Elem
			}
		}
		if s.Elem == nil {
			if o, ok := e.Val(AttrGoElem).(dwarf.Offset); ok {
				et, err := t.readType(o, depth+1)
				if err != nil {
					return nil, err
				}
				s.Elem = et
			}
		}
	}
	return typ, nil
}

// MemberOffset reads a member's DW_AT_data_member_location, a constant or,
// from older producers, a DW_OP_plus_uconst expression. It reports false
// when the attribute is absent or is any other expression.
func MemberOffset(member *dwarf.Entry) (int64, bool) {
	const opPlusUconst = 0x23
	switch loc := member.Val(dwarf.AttrDataMemberLoc).(type) {
	case int64:
		return loc, true
	case []byte:
		if len(loc) > 1 && loc[0] == opPlusUconst {
			off, n, err := dwarfbuf.ULEB128(loc[1:])
			return int64(off), err == nil && n == len(loc)-1
		}
	}
	return 0, false
}

// basicKind derives the reflect.Kind of a base type, trusting
// DW_AT_go_kind when present and the DWARF encoding otherwise.
func basicKind(goKind reflect.Kind, enc, size int64) reflect.Kind {
	if goKind >= reflect.Bool && goKind <= reflect.Complex128 {
		return goKind
	}
	const (
		ateBoolean      = 0x02
		ateComplexFloat = 0x03
		ateFloat        = 0x04
		ateSigned       = 0x05
		ateSignedChar   = 0x06
		ateUnsigned     = 0x07
		ateUnsignedChar = 0x08
		ateUTF          = 0x10
	)
	switch enc {
	case ateBoolean:
		return reflect.Bool
	case ateComplexFloat:
		if size == 8 {
			return reflect.Complex64
		}
		return reflect.Complex128
	case ateFloat:
		if size == 4 {
			return reflect.Float32
		}
		return reflect.Float64
	case ateSigned, ateSignedChar:
		switch size {
		case 1:
			return reflect.Int8
		case 2:
			return reflect.Int16
		case 4:
			return reflect.Int32
		}
		return reflect.Int64
	case ateUnsigned, ateUnsignedChar, ateUTF:
		switch size {
		case 1:
			return reflect.Uint8
		case 2:
			return reflect.Uint16
		case 4:
			return reflect.Uint32
		}
		return reflect.Uint64
	}
	return reflect.Invalid
}
