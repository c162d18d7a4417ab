package probe

import (
	"debug/dwarf"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// Param is one formal parameter or result of a function.
type Param struct {
	Name string
	Type godwarf.Type
	// Result is set for results: Go marks them DW_AT_variable_parameter.
	Result bool
}

// Params lists fn's formal parameters in declaration order; the compiler
// emits every argument before the first result. Names and types of an
// inlinable function's out-of-line copy live on its abstract origin, so
// they are read from there. Go forbids two parameters of one name, yet the
// compiler describes a named result twice when a deferred closure captures
// it (e.g. to set it after recover): the ABI passes it once, so the
// repetition is dropped.
func Params(types *godwarf.Types, fn *bininfo.Function) ([]Param, error) {
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
// with their locations from locs (parallel to params).
func Split(params []Param, locs []Location) (args, results []Param, argLocs, resLocs []Location) {
	for i, p := range params {
		if p.Result {
			results, resLocs = append(results, p), append(resLocs, locs[i])
		} else {
			args, argLocs = append(args, p), append(argLocs, locs[i])
		}
	}
	return args, results, argLocs, resLocs
}
