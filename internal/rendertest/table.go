// Package rendertest is the table of loaded values that every output path
// (terminal, JSON-RPC, DAP, both trace backends and their four encoders)
// must render to the same text; each path's test walks it.
package rendertest

import (
	"errors"
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// Case is one value as the loader builds it and the one line Delve 1.27.2
// prints for it.
type Case struct {
	Name string
	Var  *value.Variable
	Want string
}

// Types carry no package path, so that DAP's shortened types read the
// same as the full ones.

func num(kind reflect.Kind, typ, text string, addr uint64) value.Variable {
	return value.Variable{Type: typ, Kind: kind, Value: text, Addr: addr}
}

func str(s string, n int64, addr uint64) value.Variable {
	return value.Variable{Type: "string", Kind: reflect.String, Value: s, Len: n, Addr: addr, Base: 0xc000100000}
}

func point(addr uint64) value.Variable {
	return value.Variable{Type: "main.Point", Kind: reflect.Struct, Addr: addr, Len: 2,
		Children: []value.Variable{
			{Name: "X", Type: "int", Kind: reflect.Int, Value: "3", Addr: addr},
			{Name: "Y", Type: "int", Kind: reflect.Int, Value: "4", Addr: addr + 8},
		}}
}

// errorIface is an error holding *errors.errorString at addr; onlyAddr
// is how the loader leaves the pointee at the recursion limit.
func errorIface(addr uint64, onlyAddr bool) value.Variable {
	pointee := value.Variable{Type: "errors.errorString", Kind: reflect.Struct, Addr: 0xc000010000, Len: 1,
		OnlyAddr: onlyAddr}
	if !onlyAddr {
		pointee.Children = []value.Variable{{Name: "s", Type: "string", Kind: reflect.String,
			Value: "boom", Len: 4, Addr: 0xc000010000, Base: 0x4b0000}}
	}
	return value.Variable{Type: "error", Kind: reflect.Interface, Addr: addr, Children: []value.Variable{{
		Name: "data", Type: "*errors.errorString", Kind: reflect.Ptr, Addr: addr + 8, Len: 1,
		Value: "824633786368", Children: []value.Variable{pointee}}}}
}

func v(x value.Variable) *value.Variable { return &x }

// Cases returns a fresh table: tests may convert and keep its values.
func Cases() []Case {
	return []Case{
		{"int", v(num(reflect.Int, "int", "-42", 0xc000012000)), "-42"},
		{"int8", v(num(reflect.Int, "int8", "7", 0xc000012000)), "7"},
		{"float", v(num(reflect.Float64, "float64", "1.5", 0xc000012000)), "1.5"},
		{"NaN", v(num(reflect.Float64, "float64", "NaN", 0xc000012000)), "NaN"},
		{"bool", v(num(reflect.Bool, "bool", "true", 0xc000012000)), "true"},
		{"complex", v(value.Variable{Type: "complex128", Kind: reflect.Complex128, Addr: 0xc000012000,
			Children: []value.Variable{num(reflect.Float64, "float64", "1", 0), num(reflect.Float64, "float64", "-2", 0)}}),
			"(1 + -2i)"},
		{"string", v(str("héllo\n", 7, 0xc000012000)), `"héllo\n"`},
		{"truncated string", v(str("abc", 10, 0xc000012000)), `"abc...+7 more"`},
		{"nil interface", v(value.Variable{Type: "error", Kind: reflect.Interface, Addr: 0xc000012000,
			Children: []value.Variable{{Type: "void", Kind: reflect.Invalid}}}), "error nil"},
		{"out of scope interface", v(value.Variable{Type: "error", Kind: reflect.Interface,
			Children: []value.Variable{{Type: "void", Kind: reflect.Invalid}}}), "nil"},
		{"error", v(errorIface(0xc000012000, false)), `error(*errors.errorString) *{s: "boom"}`},
		// Delve prints this for an error argument held in registers.
		{"register error", v(errorIface(value.SyntheticBase, true)), "error(*errors.errorString) 0xbeef000000000008"},
		{"any int", v(value.Variable{Type: "interface {}", Kind: reflect.Interface, Addr: 0xc000012000,
			Children: []value.Variable{num(reflect.Int, "int", "3", 0xc000012008)}}), "interface {}(int) 3"},
		{"struct", v(point(0xc000014000)), "main.Point {X: 3, Y: 4}"},
		{"truncated struct", v(value.Variable{Type: "main.Big", Kind: reflect.Struct, Addr: 0xc000014000, Len: 3,
			Children: []value.Variable{{Name: "A", Type: "int", Kind: reflect.Int, Value: "1", Addr: 0xc000014000}}}),
			"main.Big {A: 1,...+2 more}"},
		{"pointer", v(value.Variable{Type: "*main.Point", Kind: reflect.Ptr, Addr: 0xc000012000, Len: 1,
			Value: "824633802752", Children: []value.Variable{point(0xc000014000)}}), "*main.Point {X: 3, Y: 4}"},
		{"pointer at depth limit", v(value.Variable{Type: "*main.Point", Kind: reflect.Ptr, Addr: 0xc000012000, Len: 1,
			Value: "824633802752", Children: []value.Variable{{Type: "main.Point", Kind: reflect.Struct,
				Addr: 0xc000014000, Len: 2, OnlyAddr: true}}}), "(*main.Point)(0xc000014000)"},
		{"nil pointer", v(value.Variable{Type: "*int", Kind: reflect.Ptr, Addr: 0xc000012000, Len: 1, Value: "0",
			Children: []value.Variable{{Type: "int", Kind: reflect.Int}}}), "*int nil"},
		{"slice", v(value.Variable{Type: "[]int", Kind: reflect.Slice, Addr: 0xc000012000, Base: 0xc000016000,
			Len: 5, Cap: 8, Children: []value.Variable{num(reflect.Int, "int", "1", 0xc000016000),
				num(reflect.Int, "int", "2", 0xc000016008)}}), "[]int len: 5, cap: 8, [1,2,...+3 more]"},
		{"nil slice", v(value.Variable{Type: "[]int", Kind: reflect.Slice, Addr: 0xc000012000}), "[]int len: 0, cap: 0, nil"},
		{"byte array", v(value.Variable{Type: "[3]uint8", Kind: reflect.Array, Addr: 0xc000012000, Base: 0xc000012000,
			Len: 3, Cap: 3, Children: []value.Variable{num(reflect.Uint, "uint8", "0", 0xc000012000),
				num(reflect.Uint, "uint8", "255", 0xc000012001), num(reflect.Uint, "uint8", "7", 0xc000012002)}}),
			"[3]uint8 [0,255,7]"},
		{"bools and a named int", v(value.Variable{Type: "[3]main.Kind", Kind: reflect.Array, Addr: 0xc000012000, Base: 0xc000012000,
			Len: 3, Cap: 3, Children: []value.Variable{{Type: "bool", Kind: reflect.Bool, Value: "true", Addr: 0xc000012000},
				num(reflect.Int, "main.Kind", "Green (1)", 0xc000012008),
				{Type: "int", Kind: reflect.Int, Addr: 0xc000012010, Unreadable: errors.New("optimized out")}}}),
			"[3]main.Kind [true,Green (1),(unreadable optimized out)]"},
		{"array", v(value.Variable{Type: "[2]string", Kind: reflect.Array, Addr: 0xc000012000, Base: 0xc000012000,
			Len: 2, Cap: 2, Children: []value.Variable{str("a", 1, 0xc000012000), str("b", 1, 0xc000012010)}}),
			`[2]string ["a","b"]`},
		{"map", v(value.Variable{Type: "map[string]int", Kind: reflect.Map, Addr: 0xc000012000, Base: 0xc000018000,
			Len: 3, Children: []value.Variable{str("k", 1, 0xc000018010), num(reflect.Int, "int", "9", 0xc000018020)}}),
			`map[string]int ["k": 9, ,...+2 more]`},
		{"nil map", v(value.Variable{Type: "map[string]int", Kind: reflect.Map, Addr: 0xc000012000}), "map[string]int nil"},
		{"chan", v(value.Variable{Type: "chan int", Kind: reflect.Chan, Addr: 0xc000012000, Base: 0xc00001a000,
			Len: 1, Cap: 4, Children: []value.Variable{{Name: "qcount", Type: "uint", Kind: reflect.Uint, Value: "1"},
				{Name: "dataqsiz", Type: "uint", Kind: reflect.Uint, Value: "4"}}}), "chan int 1/4"},
		{"nil chan", v(value.Variable{Type: "chan int", Kind: reflect.Chan, Addr: 0xc000012000}), "chan int nil"},
		{"func", v(value.Variable{Type: "func(int) int", Kind: reflect.Func, Addr: 0xc000012000, Base: 0x49e140,
			Value: "main.f"}), "main.f"},
		{"nil func", v(value.Variable{Type: "func()", Kind: reflect.Func, Addr: 0xc000012000}), "nil"},
		{"unsafe pointer", v(value.Variable{Type: "unsafe.Pointer", Kind: reflect.UnsafePointer, Addr: 0xc000012000,
			Value: "824633794560", Len: 1, Children: []value.Variable{{Type: "void", Kind: reflect.Invalid,
				Addr: 0xc000016000, OnlyAddr: true}}}), "unsafe.Pointer(0xc000016000)"},
		{"unreadable", v(value.Variable{Type: "int", Kind: reflect.Int, Addr: 0x10,
			Unreadable: errors.New("reading 8 bytes at 0x10: input/output error")}),
			"(unreadable reading 8 bytes at 0x10: input/output error)"},
		{"unreadable field", v(value.Variable{Type: "main.Point", Kind: reflect.Struct, Addr: 0xc000014000, Len: 1,
			Children: []value.Variable{{Name: "X", Type: "int", Kind: reflect.Int, Addr: 0xc000014000,
				Unreadable: errors.New("optimized out")}}}), "main.Point {X: (unreadable optimized out)}"},
	}
}
