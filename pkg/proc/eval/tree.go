package eval

import (
	"debug/dwarf"
	"fmt"
)

// attrGoClosureOffset marks a variable captured by a closure
// (DW_AT_go_closure_offset); such variables are visible on their
// declaration line already, as Delve treats them.
const attrGoClosureOffset dwarf.Attr = 0x2907

// maxTreeEntries bounds the DIEs read for one function, so corrupt DWARF
// cannot make a scope read the whole section.
const maxTreeEntries = 100000

// die is one debugging-information entry with its children.
type die struct {
	*dwarf.Entry
	children []*die
	ranges   [][2]uint64 // link-time PC ranges, for blocks and inlined calls
}

// readTree reads the entry at off and everything nested in it.
func readTree(d *dwarf.Data, off dwarf.Offset) (*die, error) {
	r := d.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil {
		return nil, fmt.Errorf("reading DWARF entry %#x: %w", off, err)
	}
	if e == nil {
		return nil, fmt.Errorf("no DWARF entry at %#x", off)
	}
	root := &die{Entry: e}
	root.ranges, _ = d.Ranges(e)
	if !e.Children {
		return root, nil
	}
	stack := []*die{root}
	for n := 0; len(stack) > 0; n++ {
		if n > maxTreeEntries {
			return nil, fmt.Errorf("function at %#x has more than %d DWARF entries", off, maxTreeEntries)
		}
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading children of %#x: %w", off, err)
		}
		if e == nil {
			break
		}
		if e.Tag == 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		n := &die{Entry: e}
		if e.Tag == dwarf.TagLexDwarfBlock || e.Tag == dwarf.TagInlinedSubroutine {
			n.ranges, _ = d.Ranges(e)
		}
		parent := stack[len(stack)-1]
		parent.children = append(parent.children, n)
		if e.Children {
			stack = append(stack, n)
		}
	}
	return root, nil
}

// contains reports whether the link-time pc is inside the entry's ranges.
func (n *die) contains(pc uint64) bool {
	for _, r := range n.ranges {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}

// varEntry is a variable or parameter visible at a PC, with the attributes
// its abstract origin supplies for inlined and inlinable code merged in.
type varEntry struct {
	entry    *dwarf.Entry
	name     string
	typ      dwarf.Offset
	declLine int
	sortLine int // the line Delve orders it by (declLine, or 0)
	isArg    bool
	isRet    bool
	captured bool
	ctxOff   int64 // offset in the closure context, when captured
	// setupStore is the last instruction of the function's setup code
	// that writes the variable's slot (0: none): up to it the slot is
	// not the variable yet. DX is the closure context up to ctxUntil.
	setupStore, ctxUntil uint64
	depth                int
}

// collectVars walks root the way Delve's Variables does: blocks count only
// when they contain pc, inlined calls nested in the root are skipped (their
// variables belong to the inlined frame), and a local becomes visible on the
// line after its declaration.
func collectVars(d *dwarf.Data, root *die, pc uint64, line int) []varEntry {
	var out []varEntry
	origins := map[dwarf.Offset]*dwarf.Entry{}
	var walk func(n *die, depth int, first bool)
	walk = func(n *die, depth int, first bool) {
		switch n.Tag {
		case dwarf.TagInlinedSubroutine, dwarf.TagLexDwarfBlock, dwarf.TagSubprogram:
			if !first && n.Tag == dwarf.TagInlinedSubroutine {
				return
			}
			if !first && !n.contains(pc) {
				return
			}
			for _, c := range n.children {
				walk(c, depth+1, false)
			}
		case dwarf.TagVariable, dwarf.TagFormalParameter:
			v := varEntry{entry: n.Entry, depth: depth, isArg: n.Tag == dwarf.TagFormalParameter}
			v.fill(n.Entry)
			if ao, ok := n.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); ok {
				oe, seen := origins[ao]
				if !seen {
					r := d.Reader()
					r.Seek(ao)
					oe, _ = r.Next()
					origins[ao] = oe
				}
				if oe != nil {
					v.fill(oe)
				}
			}
			if !v.isArg && v.declLine > 0 {
				visibleFrom := v.declLine + 1
				if v.captured {
					visibleFrom = v.declLine
				}
				if line < visibleFrom {
					return
				}
			}
			out = append(out, v)
		}
	}
	walk(root, 0, true)
	return out
}

// fill takes the attributes v does not have yet from e.
func (v *varEntry) fill(e *dwarf.Entry) {
	if v.name == "" {
		v.name, _ = e.Val(dwarf.AttrName).(string)
	}
	if v.typ == 0 {
		v.typ, _ = e.Val(dwarf.AttrType).(dwarf.Offset)
	}
	if v.declLine == 0 {
		l, _ := e.Val(dwarf.AttrDeclLine).(int64)
		v.declLine = int(l)
	}
	if ret, ok := e.Val(dwarf.AttrVarParam).(bool); ok && ret {
		v.isRet = true
	}
	if off, ok := e.Val(attrGoClosureOffset).(int64); ok {
		v.captured, v.ctxOff = true, off
	}
}
