package value

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

const ptrSize = 8

// Load reads the value of type typ at addr under cfg.
func (l *Loader) Load(name string, addr uint64, typ godwarf.Type, cfg LoadConfig) *Variable {
	st := &loadState{l: l, cfg: cfg}
	v := st.newVariable(name, addr, typ, l.Mem)
	st.load(v, 0, l.Mem)
	return v
}

// loadState carries one Load call's configuration down the recursion.
type loadState struct {
	l     *Loader
	cfg   LoadConfig
	nodes int // values loaded so far, bounded by maxNodes
	// mapSkip is how many entries of the top-level map LoadMapFrom skips.
	mapSkip int64
	// mapVisits counts the buckets, groups and directory entries read,
	// which is what bounds the cost of a corrupt map.
	mapVisits int
}

// TypeName is the name Delve shows for a type.
// SameType reports whether two types are the same Go type: the same
// object or the same name (DWARF may describe one type more than once).
func SameType(a, b godwarf.Type) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a == b || TypeName(a) == TypeName(b)
}

func TypeName(t godwarf.Type) string {
	if t == nil {
		return ""
	}
	if n := t.Common().Name; n != "" {
		return n
	}
	return t.String()
}

// UnreadableVar describes a value whose type is known but whose bytes could
// not be found or read (a variable optimized out at this PC): it keeps its
// type and kind, as Delve does, so that clients still know what it is.
func UnreadableVar(name string, typ godwarf.Type, err error) *Variable {
	var st loadState
	v := st.newVariable(name, 0, typ, nil)
	v.Unreadable = err
	return v
}

// newVariable describes the value at addr without loading it; for
// headers (strings, slices, chans) it reads the length so that even an
// unloaded value knows its size.
func (st *loadState) newVariable(name string, addr uint64, typ godwarf.Type, mem MemoryReader) *Variable {
	v := &st.l.arena().variables(1)[0]
	st.initVariable(v, name, addr, typ, mem)
	return v
}

// initVariable is newVariable into *v, whatever it held: composites
// build their parts in place in their Children rather than allocating
// each part and copying it in (a trace loads a tree per event), and an
// Arena's nodes are reused without being cleared first.
func (st *loadState) initVariable(v *Variable, name string, addr uint64, typ godwarf.Type, mem MemoryReader) {
	*v = Variable{Name: name, Addr: addr, DwarfType: typ, Type: TypeName(typ)}
	if typ == nil {
		v.Unreadable = errors.New("no type")
		return
	}
	switch t := godwarf.ResolveTypedef(typ).(type) {
	case *godwarf.PtrType:
		v.Kind = reflect.Ptr
		if _, void := t.Elem.(*godwarf.VoidType); t.Elem == nil || void {
			v.Kind = reflect.UnsafePointer
		}
	case *godwarf.ChanType:
		v.Kind = reflect.Chan
	case *godwarf.MapType:
		v.Kind = reflect.Map
	case *godwarf.StringType:
		v.Kind = reflect.String
		if addr != 0 {
			st.readStringHeader(v, t, mem)
		}
	case *godwarf.SliceType:
		v.Kind = reflect.Slice
		if addr != 0 {
			st.readSliceHeader(v, t, mem)
		}
	case *godwarf.InterfaceType:
		v.Kind = reflect.Interface
	case *godwarf.StructType:
		v.Kind = reflect.Struct
	case *godwarf.ArrayType:
		v.Kind = reflect.Array
		v.Base = addr
		v.Len = t.Count
		v.Cap = t.Count
	case *godwarf.BasicType:
		switch t.Kind {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			v.Kind = reflect.Int
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			v.Kind = reflect.Uint
		default:
			v.Kind = t.Kind
		}
	case *godwarf.FuncType:
		v.Kind = reflect.Func
	case *godwarf.VoidType:
		v.Kind = reflect.Invalid
	default:
		v.Unreadable = fmt.Errorf("unknown type: %T", t)
	}
}

func (st *loadState) readStringHeader(v *Variable, t *godwarf.StringType, mem MemoryReader) {
	mem = st.cacheMemory(mem, v.Addr, t.Size())
	for _, f := range t.Fields {
		switch f.Name {
		case "str":
			p, err := readUint(mem, v.Addr+uint64(f.ByteOffset), ptrSize)
			if err != nil {
				v.Unreadable = fmt.Errorf("could not read string pointer: %w", err)
				return
			}
			v.Base = p
		case "len":
			n, err := readInt(mem, v.Addr+uint64(f.ByteOffset), ptrSize)
			if err != nil {
				v.Unreadable = fmt.Errorf("could not read string len: %w", err)
				return
			}
			if n < 0 {
				v.Unreadable = fmt.Errorf("invalid length: %d", n)
				return
			}
			v.Len = n
		}
	}
}

func (st *loadState) readSliceHeader(v *Variable, t *godwarf.SliceType, mem MemoryReader) {
	mem = st.cacheMemory(mem, v.Addr, t.Size())
	for _, f := range t.Fields {
		var err error
		switch f.Name {
		case "array":
			v.Base, err = readUint(mem, v.Addr+uint64(f.ByteOffset), ptrSize)
		case "len":
			v.Len, err = readInt(mem, v.Addr+uint64(f.ByteOffset), ptrSize)
		case "cap":
			v.Cap, err = readInt(mem, v.Addr+uint64(f.ByteOffset), ptrSize)
		}
		if err != nil {
			v.Unreadable = err
			return
		}
	}
	if t.Elem == nil {
		v.Unreadable = fmt.Errorf("invalid slice type %s: no element type", t.Name)
	}
}

// load fills in v's value and, within the limits of cfg, its parts.
// level counts struct, map and interface nesting, as Delve does, so that
// self-referencing data (cyclic lists) stops at the recursion limit.
func (st *loadState) load(v *Variable, level int, mem MemoryReader) {
	if v.Unreadable != nil || v.loaded || (v.Addr == 0 && v.Base == 0) {
		return
	}
	v.loaded = true
	st.nodes++
	real := godwarf.ResolveTypedef(v.DwarfType)
	switch v.Kind {
	case reflect.Ptr, reflect.UnsafePointer:
		st.loadPointer(v, real.(*godwarf.PtrType), level, mem)
	case reflect.Chan:
		st.loadChan(v, real.(*godwarf.ChanType), mem)
	case reflect.Map:
		st.loadMap(v, real.(*godwarf.MapType), level, mem)
	case reflect.String:
		st.loadString(v)
	case reflect.Slice, reflect.Array:
		st.loadArray(v, real, level, mem)
	case reflect.Struct:
		st.loadStruct(v, real.(*godwarf.StructType), level, mem)
	case reflect.Interface:
		st.loadInterface(v, real.(*godwarf.InterfaceType), level, mem)
	case reflect.Func:
		st.loadFunc(v, level, mem)
	case reflect.Complex64, reflect.Complex128:
		st.loadComplex(v, real.Size(), mem)
	case reflect.Int:
		n, err := readInt(mem, v.Addr, real.Size())
		if err != nil {
			v.Unreadable = err
			return
		}
		v.Value = st.describeInt(v, st.l.arena().formatInt(n), n)
	case reflect.Uint:
		n, err := readUint(mem, v.Addr, real.Size())
		if err != nil {
			v.Unreadable = err
			return
		}
		v.Value = st.describeInt(v, st.l.arena().formatUint(n), int64(n))
	case reflect.Bool:
		var b [1]byte
		if err := readFull(mem, b[:], v.Addr); err != nil {
			v.Unreadable = err
			return
		}
		v.Value = strconv.FormatBool(b[0] != 0)
	case reflect.Float32, reflect.Float64:
		f, err := readFloat(mem, v.Addr, real.Size())
		if err != nil {
			v.Unreadable = err
			return
		}
		v.Value = formatFloat(f, int(real.Size()*8))
	case reflect.Invalid:
		// void: only the address is meaningful (nil interface data).
	default:
		v.Unreadable = fmt.Errorf("unknown or unsupported kind: %q", v.Kind.String())
	}
}

// tooDeep reports whether composite values at this nesting level are
// left unloaded: beyond the configured recursion, or beyond the hard
// limits that hold whatever the configuration says.
func (st *loadState) tooDeep(level int) bool {
	return level > st.cfg.MaxVariableRecurse || level > hardMaxDepth || st.nodes > maxNodes
}

// describeInt adds the name of a matching constant the way Delve shows
// named integers: "Green (1)".
func (st *loadState) describeInt(v *Variable, num string, n int64) string {
	if st.l.Consts == nil {
		return num
	}
	if name := st.l.Consts.ConstName(v.DwarfType, n); name != "" {
		return name + " (" + num + ")"
	}
	return num
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}

func (st *loadState) loadComplex(v *Variable, size int64, mem MemoryReader) {
	half := size / 2
	if half != 4 && half != 8 {
		v.Unreadable = fmt.Errorf("invalid size (%d) for complex type", size)
		return
	}
	re, err := readFloat(mem, v.Addr, half)
	if err != nil {
		v.Unreadable = err
		return
	}
	im, err := readFloat(mem, v.Addr+uint64(half), half)
	if err != nil {
		v.Unreadable = err
		return
	}
	fk := reflect.Float32
	if half == 8 {
		fk = reflect.Float64
	}
	v.Len = 2
	v.Children = []Variable{
		{Name: "real", Kind: fk, Value: formatFloat(re, int(half*8)), loaded: true},
		{Name: "imaginary", Kind: fk, Value: formatFloat(im, int(half*8)), loaded: true},
	}
	v.Value = "(" + v.Children[0].Value + " + " + v.Children[1].Value + "i)"
}

func (st *loadState) loadPointer(v *Variable, t *godwarf.PtrType, level int, mem MemoryReader) {
	v.Len = 1
	p, err := readUint(mem, v.Addr, ptrSize)
	var elem godwarf.Type = t.Elem
	if elem == nil {
		elem = &godwarf.VoidType{}
	}
	v.Children = st.l.arena().variables(1)
	child := &v.Children[0]
	if err != nil {
		v.Unreadable = err
		st.initVariable(child, "", 0, elem, st.l.Mem)
		child.Unreadable = fmt.Errorf("parent pointer unreadable: %w", err)
		return
	}
	st.initVariable(child, "", p, elem, st.l.Mem)
	v.Value = st.l.arena().formatUint(p)
	switch {
	case v.Kind == reflect.UnsafePointer || child.Kind == reflect.Invalid:
		child.OnlyAddr = true
	case !st.cfg.FollowPointers:
		child.OnlyAddr = true
	default:
		// Pointers do not count as nesting, except pointers to pointers
		// and to interfaces, which could otherwise chain without end.
		next := level
		check := false
		if child.Kind == reflect.Interface {
			next++
		} else if _, ok := godwarf.ResolveTypedef(elem).(*godwarf.PtrType); ok {
			next++
			check = true
		}
		if check && st.tooDeep(level) {
			child.OnlyAddr = true
		} else {
			st.load(child, next, st.l.Mem)
		}
	}
}

func (st *loadState) loadString(v *Variable) {
	if v.Len == 0 {
		return
	}
	n := min(v.Len, int64(st.cfg.MaxStringLen), hardMaxStringLen)
	if n <= 0 {
		return
	}
	mem := uncached(st.l.Mem)
	if data := viewMemory(mem, v.Base, n); data != nil {
		v.Value = st.l.arena().copyString(data) // one copy instead of two
		return
	}
	buf := make([]byte, n)
	if err := readFull(mem, buf, v.Base); err != nil {
		v.Unreadable = fmt.Errorf("could not read string at %#x due to %w", v.Base, err)
		return
	}
	v.Value = string(buf)
}

func (st *loadState) loadStruct(v *Variable, t *godwarf.StructType, level int, mem MemoryReader) {
	v.Len = int64(len(t.Fields))
	if st.tooDeep(level) {
		return
	}
	mem = st.cacheMemory(mem, v.Addr, t.Size())
	v.Children = st.l.arena().variables(len(t.Fields))[:0]
	for _, f := range t.Fields {
		if st.cfg.MaxStructFields >= 0 && len(v.Children) >= st.cfg.MaxStructFields {
			break
		}
		// Within the capacity made above, so fv stays valid;
		// initVariable sets all of it.
		v.Children = v.Children[:len(v.Children)+1]
		fv := &v.Children[len(v.Children)-1]
		st.initVariable(fv, f.Name, v.Addr+uint64(f.ByteOffset), f.Type, mem)
		st.load(fv, level+1, mem)
	}
	if t.Name == "time.Time" {
		st.describeTime(v)
	}
}

func (st *loadState) loadArray(v *Variable, real godwarf.Type, level int, mem MemoryReader) {
	var elem godwarf.Type
	var stride int64
	switch t := real.(type) {
	case *godwarf.ArrayType:
		elem, stride = t.Elem, t.Stride
	case *godwarf.SliceType:
		elem = t.Elem
		stride = elem.Size()
		mem = st.l.Mem // slice data lives elsewhere
	}
	if v.Len < 0 {
		v.Unreadable = errors.New("Negative array length")
		return
	}
	if v.Base == 0 && v.Len > 0 {
		v.Unreadable = errors.New("non-zero length array with nil base")
		return
	}
	count := min(v.Len, int64(st.cfg.MaxArrayValues), hardMaxArray)
	if count <= 0 {
		return
	}
	if stride < 0 || (stride > 0 && uint64(count) > math.MaxUint64/uint64(stride)) || v.Base+uint64(stride*count) < v.Base {
		v.Unreadable = fmt.Errorf("bad array base address %#x", v.Base)
		return
	}
	mem = st.cacheMemory(mem, v.Base, stride*count)
	if st.loadScalars(v, elem, stride, count, mem) {
		return
	}
	errs := 0
	v.Children = st.l.arena().variables(int(count))[:0]
	for i := int64(0); i < count; i++ {
		v.Children = v.Children[:len(v.Children)+1] // within capacity; set by initVariable
		ev := &v.Children[len(v.Children)-1]
		st.initVariable(ev, "", v.Base+uint64(i*stride), elem, mem)
		st.load(ev, level+1, mem)
		if ev.Unreadable != nil {
			errs++
		}
		if errs > maxErrCount {
			break
		}
	}
}

func (st *loadState) loadFunc(v *Variable, level int, mem MemoryReader) {
	fv, err := readUint(mem, v.Addr, ptrSize)
	if err != nil {
		v.Unreadable = err
		return
	}
	if fv == 0 {
		return // nil func: Value stays empty
	}
	pc, err := readUint(uncached(mem), fv, ptrSize)
	if err != nil {
		v.Unreadable = err
		return
	}
	v.Base = pc
	if st.l.Funcs == nil {
		v.Unreadable = fmt.Errorf("could not find function for %#x: no symbols", pc)
		return
	}
	name, ok := st.l.Funcs.FuncName(pc)
	if !ok {
		v.Unreadable = fmt.Errorf("could not find function for %#x", pc)
		return
	}
	v.Value = name
	if cr, ok := st.l.Funcs.(ClosureResolver); ok {
		st.loadClosureVars(v, cr.ClosureVars(pc), fv, level)
	}
}
