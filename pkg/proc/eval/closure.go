package eval

import (
	"debug/dwarf"
	"sync"

	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// closureCache remembers each closure function's captured variables.
type closureCache struct {
	mu   sync.Mutex
	vars map[dwarf.Offset][]value.ClosureVar
}

// ClosureVars implements value.ClosureResolver: the variables of the
// function at pc that carry DW_AT_go_closure_offset (Go ≥ 1.23), in DWARF
// order, which is how Delve lists a closure's captured variables.
func (p *Program) ClosureVars(pc uint64) []value.ClosureVar {
	fn := p.BI.PCToFunc(pc)
	if fn == nil {
		return nil
	}
	p.closures.mu.Lock()
	defer p.closures.mu.Unlock()
	if vars, ok := p.closures.vars[fn.Offset]; ok {
		return vars
	}
	if p.closures.vars == nil {
		p.closures.vars = make(map[dwarf.Offset][]value.ClosureVar)
	}
	var vars []value.ClosureVar
	if d, err := p.BI.DWARF(); err == nil {
		if tree, err := readTree(d, fn.Offset); err == nil {
			vars = p.capturedIn(tree, vars)
		}
	}
	p.closures.vars[fn.Offset] = vars
	return vars
}

// capturedIn collects captured variables in n's blocks, leaving out
// inlined calls, whose variables belong to other functions.
func (p *Program) capturedIn(n *die, out []value.ClosureVar) []value.ClosureVar {
	for _, c := range n.children {
		switch c.Tag {
		case dwarf.TagLexDwarfBlock:
			out = p.capturedIn(c, out)
		case dwarf.TagVariable, dwarf.TagFormalParameter:
			off, ok := c.Val(attrGoClosureOffset).(int64)
			name, _ := c.Val(dwarf.AttrName).(string)
			toff, okt := c.Val(dwarf.AttrType).(dwarf.Offset)
			if !ok || !okt || name == "" {
				continue
			}
			if typ, err := p.Types.Type(toff); err == nil {
				out = append(out, value.ClosureVar{Name: name, Offset: off, Type: typ})
			}
		}
	}
	return out
}
