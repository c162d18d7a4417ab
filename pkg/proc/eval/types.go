package eval

import (
	"fmt"
	"go/ast"
	"go/token"
	"reflect"
	"strconv"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// basicKinds describes Go's predeclared types, for binaries whose DWARF
// lacks one (the linker only emits types the program uses).
var basicKinds = map[string]struct {
	kind reflect.Kind
	size int64
}{
	"bool": {reflect.Bool, 1}, "int": {reflect.Int, 8}, "int8": {reflect.Int8, 1},
	"int16": {reflect.Int16, 2}, "int32": {reflect.Int32, 4}, "int64": {reflect.Int64, 8},
	"uint": {reflect.Uint, 8}, "uint8": {reflect.Uint8, 1}, "uint16": {reflect.Uint16, 2},
	"uint32": {reflect.Uint32, 4}, "uint64": {reflect.Uint64, 8}, "uintptr": {reflect.Uintptr, 8},
	"float32": {reflect.Float32, 4}, "float64": {reflect.Float64, 8},
	"complex64": {reflect.Complex64, 8}, "complex128": {reflect.Complex128, 16},
}

// aliases maps Go's alias names to the names DWARF uses.
var aliases = map[string]string{"byte": "uint8", "rune": "int32", "any": "interface {}"}

// basicType returns a predeclared type, from DWARF when present so that it
// carries the binary's runtime type, synthesized otherwise.
func (s *Scope) basicType(name string) (godwarf.Type, error) {
	if a, ok := aliases[name]; ok {
		name = a
	}
	if t, err := s.prog.Types.ByName(name); err == nil {
		return t, nil
	}
	if name == "string" {
		return stringType(), nil
	}
	bk, ok := basicKinds[name]
	if !ok {
		return nil, fmt.Errorf("no type entry found for %s", name)
	}
	return &godwarf.BasicType{CommonType: godwarf.CommonType{Name: name, ByteSize: bk.size}, Kind: bk.kind}, nil
}

func stringType() godwarf.Type {
	u8 := &godwarf.BasicType{CommonType: godwarf.CommonType{Name: "uint8", ByteSize: 1}, Kind: reflect.Uint8}
	ptr := &godwarf.PtrType{CommonType: godwarf.CommonType{Name: "*uint8", ByteSize: 8}, Elem: u8}
	in := &godwarf.BasicType{CommonType: godwarf.CommonType{Name: "int", ByteSize: 8}, Kind: reflect.Int}
	return &godwarf.StringType{StructType: godwarf.StructType{
		CommonType: godwarf.CommonType{Name: "string", ByteSize: 16},
		Fields:     []*godwarf.StructField{{Name: "str", Type: ptr}, {Name: "len", Type: in, ByteOffset: 8}},
	}}
}

// pointerTo returns *t.
func (s *Scope) pointerTo(t godwarf.Type) godwarf.Type {
	name := "*" + value.TypeName(t)
	if pt, err := s.prog.Types.ByName(name); err == nil {
		return pt
	}
	return &godwarf.PtrType{CommonType: godwarf.CommonType{Name: name, ByteSize: 8}, Elem: t}
}

// sliceOf returns []t.
func (s *Scope) sliceOf(t godwarf.Type) godwarf.Type {
	name := "[]" + value.TypeName(t)
	if st, err := s.prog.Types.ByName(name); err == nil {
		return st
	}
	in, _ := s.basicType("int")
	return &godwarf.SliceType{StructType: godwarf.StructType{
		CommonType: godwarf.CommonType{Name: name, ByteSize: 24},
		Fields: []*godwarf.StructField{
			{Name: "array", Type: s.pointerTo(t)},
			{Name: "len", Type: in, ByteOffset: 8},
			{Name: "cap", Type: in, ByteOffset: 16},
		},
	}, Elem: t}
}

// typeOf resolves a type written in an expression: predeclared names,
// package types (main.Point, "net/http".Client), pointers, slices, arrays.
func (s *Scope) typeOf(e ast.Expr) (godwarf.Type, error) {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return s.typeOf(e.X)
	case *ast.Ident:
		if t, err := s.basicType(e.Name); err == nil {
			return t, nil
		}
		if s.fn.CU != nil {
			if t, err := s.prog.Types.ByName(s.fn.CU.Name + "." + e.Name); err == nil {
				return t, nil
			}
		}
	case *ast.StarExpr:
		elem, err := s.typeOf(e.X)
		if err != nil {
			return nil, err
		}
		return s.pointerTo(elem), nil
	case *ast.ArrayType:
		elem, err := s.typeOf(e.Elt)
		if err != nil {
			return nil, err
		}
		if e.Len == nil {
			return s.sliceOf(elem), nil
		}
		lit, ok := e.Len.(*ast.BasicLit)
		if !ok || lit.Kind != token.INT {
			return nil, fmt.Errorf("array length must be an integer literal")
		}
		name := "[" + lit.Value + "]" + value.TypeName(elem)
		if t, err := s.prog.Types.ByName(name); err == nil {
			return t, nil
		}
		n, err := strconv.ParseInt(lit.Value, 0, 64)
		if err != nil || n < 0 || elem.Size() > 0 && n > (1<<40)/elem.Size() {
			return nil, fmt.Errorf("invalid array length %s", lit.Value)
		}
		return &godwarf.ArrayType{CommonType: godwarf.CommonType{Name: name, ByteSize: n * elem.Size()}, Elem: elem, Count: n, Stride: elem.Size()}, nil
	case *ast.InterfaceType:
		if e.Methods == nil || len(e.Methods.List) == 0 {
			return s.prog.Types.ByName("interface {}")
		}
	}
	name := typeExprName(e)
	if name == "" {
		return nil, fmt.Errorf("not a type: %T", e)
	}
	if t, err := s.prog.Types.ByName(name); err == nil {
		return t, nil
	}
	// pkg.T with pkg a package's last path element (flags.Perm for
	// fixtures/truth/flags.Perm), as Delve resolves it.
	if sel, ok := e.(*ast.SelectorExpr); ok {
		if pkg, ok := sel.X.(*ast.Ident); ok {
			units, _ := s.prog.BI.CompileUnits()
			for _, cu := range units {
				if strings.HasSuffix(cu.Name, "/"+pkg.Name) {
					if t, err := s.prog.Types.ByName(cu.Name + "." + sel.Sel.Name); err == nil {
						return t, nil
					}
				}
			}
		}
	}
	return nil, fmt.Errorf("could not find type %s", name)
}

// typeExprName spells a type expression the way DWARF names types:
// "main.Point", "net/http.Client", "main.Pair[int,string]".
func typeExprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		switch x := e.X.(type) {
		case *ast.Ident:
			return x.Name + "." + e.Sel.Name
		case *ast.BasicLit:
			if p, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING {
				return p + "." + e.Sel.Name
			}
		}
	case *ast.StarExpr:
		if n := typeExprName(e.X); n != "" {
			return "*" + n
		}
	case *ast.IndexExpr:
		return genericName(e.X, []ast.Expr{e.Index})
	case *ast.IndexListExpr:
		return genericName(e.X, e.Indices)
	case *ast.MapType:
		k, v := typeExprName(e.Key), typeExprName(e.Value)
		if k != "" && v != "" {
			return "map[" + k + "]" + v
		}
	case *ast.ArrayType:
		if e.Len == nil {
			if n := typeExprName(e.Elt); n != "" {
				return "[]" + n
			}
		}
	}
	return ""
}

func genericName(x ast.Expr, args []ast.Expr) string {
	base := typeExprName(x)
	if base == "" {
		return ""
	}
	parts := make([]string, len(args))
	for i, a := range args {
		if parts[i] = typeExprName(a); parts[i] == "" {
			return ""
		}
	}
	return base + "[" + strings.Join(parts, ",") + "]"
}
