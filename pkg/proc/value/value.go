// Package value turns bytes of a target's memory plus a DWARF type into a
// tree of values; bytes held in registers or computed are read through the
// one Overlay. Every UI and every trace backend (ptrace, eBPF buffers) goes
// through this one loader, and renders through service/api (ConvertVar and
// its printer), so that the text users read cannot drift between them.
package value

import (
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// MemoryReader reads the target's memory. A short read must return an error.
type MemoryReader interface {
	ReadMemory(buf []byte, addr uint64) (int, error)
}

// LoadConfig bounds how much of a value is read, like Delve's LoadConfig.
type LoadConfig struct {
	FollowPointers     bool // load what pointers point to
	MaxVariableRecurse int  // struct/map/interface nesting loaded in full
	MaxStringLen       int  // bytes of a string read
	MaxArrayValues     int  // elements of arrays, slices and maps read
	MaxStructFields    int  // fields of a struct read; -1 for all
	// MaxMapBuckets caps the buckets (or Swiss groups) scanned per map so a
	// corrupt map cannot hang the loader; 0 means 100 per entry loaded
	// or skipped, plus 64.
	MaxMapBuckets int
}

// DefaultLoadConfig is what Delve's REPL uses for print.
var DefaultLoadConfig = LoadConfig{
	FollowPointers:     true,
	MaxVariableRecurse: 1,
	MaxStringLen:       64,
	MaxArrayValues:     64,
	MaxStructFields:    -1,
}

// ShortLoadConfig is what Delve's locals and args commands load: strings,
// three struct fields, no array elements, no pointers followed.
var ShortLoadConfig = LoadConfig{MaxStringLen: 64, MaxStructFields: 3}

// Hard limits that hold whatever the configuration asks for: a value read
// from a corrupt or hostile process must never exhaust memory or time.
const (
	hardMaxStringLen = 1 << 24
	hardMaxArray     = 1 << 20
	hardMaxDepth     = 64
	maxErrCount      = 3 // unreadable elements tolerated before an array stops
	// maxNodes bounds the values one Load reads: branching self-referencing
	// data (trees, doubly linked lists) under a high MaxVariableRecurse
	// would otherwise grow exponentially.
	maxNodes = 100000
)

// Variable is one loaded value and, for composite values, its parts.
type Variable struct {
	Name string       // variable, field or element name ("" for elements)
	Type string       // Go type name as Delve prints it
	Kind reflect.Kind // kind of the underlying type
	Addr uint64       // address of the value (0 when it has none)
	// OnlyAddr is set when the value was not loaded because of the
	// recursion limit: only its address is known.
	OnlyAddr bool
	// Base is the address of the data behind a string, slice, map, chan
	// or func value.
	Base uint64
	// Value is the scalar value as text: a number, "true", a string's
	// (possibly truncated) bytes, a function name, a float's "NaN".
	Value string
	// Len is the length of a string/slice/array/map/chan or the number
	// of fields of a struct; Children may hold fewer (truncation).
	Len int64
	Cap int64
	// Children are struct fields, elements, map keys and values
	// alternating, the pointee of a pointer, or an interface's data.
	Children []Variable
	// Unreadable is why the value could not be read.
	Unreadable error
	// DwarfType is the type the value was loaded as.
	DwarfType godwarf.Type

	loaded bool
}

// Truncated reports whether fewer parts were loaded than the value has.
func (v *Variable) Truncated() bool {
	switch v.Kind {
	case reflect.String:
		return int64(len(v.Value)) < v.Len
	case reflect.Map:
		return int64(len(v.Children)/2) < v.Len
	case reflect.Array, reflect.Slice, reflect.Struct:
		return int64(len(v.Children)) < v.Len
	}
	return false
}

// FuncResolver names the function containing a PC; the loader uses it to
// print func values. Implementations live with the symbol tables.
type FuncResolver interface {
	FuncName(pc uint64) (string, bool)
}

// ClosureVar is one variable a closure captured: its name ("&n" when
// captured by reference), its type and its offset in the closure's
// context block (DW_AT_go_closure_offset).
type ClosureVar struct {
	Name   string
	Offset int64
	Type   godwarf.Type
}

// ClosureResolver lists the variables captured by the closure function
// whose entry is pc; a FuncResolver may implement it so that print shows
// a closure's captured variables as Delve does.
type ClosureResolver interface {
	ClosureVars(pc uint64) []ClosureVar
}

// ConstResolver describes an integer of a named type with its constants,
// e.g. "Green" for main.Color(1); "" when none matches.
type ConstResolver interface {
	ConstName(typ godwarf.Type, v int64) string
}

// Loader reads values out of one target.
type Loader struct {
	Mem   MemoryReader
	Types *godwarf.Types // needed for interfaces (dynamic types)
	// RuntimeTypes is the address of runtime.types (moduledata.types) in
	// the target; interfaces hold type descriptor addresses relative to it.
	RuntimeTypes uint64
	Funcs        FuncResolver  // optional: names func values
	Consts       ConstResolver // optional: describes named integer constants
	// Arena, when not nil, holds the trees loaded: they are valid until
	// its Reset.
	Arena *Arena
}

// arena is l's Arena; nil (the heap) for a nil Loader.
func (l *Loader) arena() *Arena {
	if l == nil {
		return nil
	}
	return l.Arena
}

// Load reads the value of type typ at addr with a loader that has no
// symbol information (interfaces and funcs are reported unreadable).
func Load(mem MemoryReader, addr uint64, typ godwarf.Type, cfg LoadConfig) *Variable {
	l := &Loader{Mem: mem}
	return l.Load("", addr, typ, cfg)
}
