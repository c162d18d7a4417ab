package ebpf

import (
	"debug/dwarf"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// param is one formal parameter or result of a traced function.
type param struct {
	Name   string
	Type   godwarf.Type
	Result bool // DW_AT_variable_parameter: Go marks results this way
}

// readParams lists the formal parameters of the subprogram at off, in
// declaration order, arguments before results as the compiler emits them.
// Names and types of an inlinable function's out-of-line copy live on its
// abstract origin.
func readParams(d *dwarf.Data, types *godwarf.Types, off dwarf.Offset) ([]param, error) {
	r := d.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil {
		return nil, fmt.Errorf("reading subprogram at %#x: %v", off, err)
	}
	if !e.Children {
		return nil, nil
	}
	var out []param
	for {
		c, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading parameters of subprogram at %#x: %w", off, err)
		}
		if c == nil || c.Tag == 0 {
			break
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
			if a, err := ar.Next(); err == nil && a != nil {
				attrs = a
			}
		}
		p := param{}
		p.Name, _ = attrs.Val(dwarf.AttrName).(string)
		p.Result, _ = attrs.Val(dwarf.AttrVarParam).(bool)
		toff, ok := attrs.Val(dwarf.AttrType).(dwarf.Offset)
		if !ok {
			return nil, fmt.Errorf("parameter %s of subprogram at %#x has no type", p.Name, off)
		}
		if p.Type, err = types.Type(toff); err != nil {
			return nil, fmt.Errorf("type of parameter %s: %w", p.Name, err)
		}
		out = append(out, p)
	}
	return out, nil
}
