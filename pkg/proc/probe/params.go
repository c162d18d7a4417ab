package probe

import (
	"debug/dwarf"
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// Param is one formal parameter or result of a function.
type Param struct {
	Name string
	Type godwarf.Type
	// Result is set for results: Go marks them DW_AT_variable_parameter.
	Result bool
	// Dict is set for the dictionary of a shape-instantiated function:
	// the ABI passes it, but it is no argument of the source.
	Dict bool
}

// dictName is the compiler's name for a shaped function's dictionary.
const dictName = ".dict"

// Params lists fn's formal parameters in declaration order; the compiler
// emits every argument before the first result. Names and types of an
// inlinable function's out-of-line copy live on its abstract origin, so
// they are read from there. Go forbids two parameters of one name, yet the
// compiler describes a named result twice when a deferred closure captures
// it (e.g. to set it after recover): the ABI passes it once, so the
// repetition is dropped.
//
// A shape-instantiated function (main.Sum[go.shape.int]) takes its
// dictionary as its first argument after the receiver; an optimized build
// leaves ".dict" out of DWARF when the body does not use it, so it is put
// back here, or every later argument would be read from the register
// before its own. Shape typedefs (.param0, DW_AT_go_dict_index) are
// replaced by the shape they stand for: without reading the dictionary
// that is the most a probe knows of the type (Delve shows the same).
func Params(types *godwarf.Types, fn *bininfo.Function) ([]Param, error) {
	out, err := params(types, fn)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Type = unshape(out[i].Type)
		if out[i].Name == dictName && !out[i].Result {
			out[i].Dict = true
		}
	}
	at, ok := dictPosition(fn.Name)
	if !ok {
		return out, nil
	}
	for _, p := range out {
		if p.Dict {
			return out, nil
		}
	}
	if at > len(out) {
		at = len(out)
	}
	dict := Param{Name: dictName, Dict: true, Type: &godwarf.PtrType{CommonType: godwarf.CommonType{Name: "*uintptr", ByteSize: 8}}}
	return append(out[:at:at], append([]Param{dict}, out[at:]...)...), nil
}

// unshape returns the type a generic shape typedef stands for.
func unshape(t godwarf.Type) godwarf.Type {
	if td, ok := t.(*godwarf.TypedefType); ok && td.DictIndex >= 0 && td.Type != nil {
		return td.Type
	}
	return t
}

// params reads fn's formal parameters as DWARF lists them.
func params(types *godwarf.Types, fn *bininfo.Function) ([]Param, error) {
	d := types.Data()
	r := d.Reader()
	r.Seek(fn.Offset)
	e, err := r.Next()
	if err != nil {
		return nil, fmt.Errorf("reading subprogram %s at %#x: %w", fn.Name, fn.Offset, err)
	}
	if e == nil || e.Tag != dwarf.TagSubprogram {
		return nil, fmt.Errorf("no subprogram for %s at %#x", fn.Name, fn.Offset)
	}
	if !e.Children {
		return nil, nil
	}
	var out []Param
	seen := map[string]bool{}
	for {
		c, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading parameters of %s: %w", fn.Name, err)
		}
		if c == nil || c.Tag == 0 {
			return out, nil
		}
		if c.Tag != dwarf.TagFormalParameter {
			if c.Children {
				r.SkipChildren()
			}
			continue
		}
		attrs := c
		if ao, ok := c.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); ok {
			ar := d.Reader()
			ar.Seek(ao)
			a, err := ar.Next()
			if err != nil || a == nil {
				return nil, fmt.Errorf("reading abstract origin %#x of a parameter of %s: %v", ao, fn.Name, err)
			}
			attrs = a
		}
		var p Param
		p.Name, _ = attrs.Val(dwarf.AttrName).(string)
		p.Result, _ = attrs.Val(dwarf.AttrVarParam).(bool)
		toff, ok := attrs.Val(dwarf.AttrType).(dwarf.Offset)
		if !ok {
			return nil, fmt.Errorf("parameter %s of %s has no type", p.Name, fn.Name)
		}
		if p.Type, err = types.Type(toff); err != nil {
			return nil, fmt.Errorf("type of parameter %s of %s: %w", p.Name, fn.Name, err)
		}
		if p.Name != "" && p.Name != "_" {
			if seen[p.Name] {
				continue
			}
			seen[p.Name] = true
		}
		out = append(out, p)
	}
}

// Split returns the arguments and the results of params, each in order,
// with their locations from locs (parallel to params). A dictionary is
// neither: it only takes its register.
func Split(params []Param, locs []Location) (args, results []Param, argLocs, resLocs []Location) {
	for i, p := range params {
		if p.Dict {
			continue
		}
		if p.Result {
			results, resLocs = append(results, p), append(resLocs, locs[i])
		} else {
			args, argLocs = append(args, p), append(argLocs, locs[i])
		}
	}
	return args, results, argLocs, resLocs
}

// dictPosition reports whether the function named name is a shape
// instantiation that takes a dictionary, and at which parameter index:
// 0 for a function (pkg.F[go.shape.int]), 1 for a method, after its
// receiver (pkg.(*T[go.shape.int]).M, pkg.T[go.shape.int].M). A closure
// inside one (pkg.F[...].func1, pkg.(*T[...]).M.func2) captures the
// dictionary instead.
func dictPosition(name string) (int, bool) {
	open := strings.IndexByte(name, '[')
	if open < 0 {
		return 0, false
	}
	depth, end := 0, -1
	for i := open; i < len(name) && end < 0; i++ {
		switch name[i] {
		case '[':
			depth++
		case ']':
			if depth--; depth == 0 {
				end = i
			}
		}
	}
	if end < 0 || !strings.Contains(name[open:end], "go.shape.") {
		return 0, false
	}
	rest := name[end+1:]
	switch {
	case rest == "":
		return 0, true
	case strings.HasPrefix(rest, ")."):
		rest = rest[2:]
	case strings.HasPrefix(rest, "."):
		rest = rest[1:]
		if closureName(rest) {
			return 0, false
		}
	default:
		return 0, false
	}
	if rest == "" || strings.ContainsAny(rest, ".[]()-") {
		return 0, false
	}
	return 1, true
}

// closureName reports whether s is the name the compiler gives a function
// literal or a go/defer wrapper inside another function.
func closureName(s string) bool {
	for _, p := range []string{"func", "gowrap", "deferwrap"} {
		if n, ok := strings.CutPrefix(s, p); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			return true
		}
	}
	return false
}
