package bininfo

import (
	"debug/dwarf"
	"fmt"
)

// InlinedCall is one level of inlining active at a PC: Func's body was
// inlined at CallFile:CallLine into the enclosing function (the next
// element, or the concrete Function for the last one).
type InlinedCall struct {
	Func     string
	CallFile string
	CallLine int
	// Ranges are the run-time [lo, hi) ranges of the inlined body.
	Ranges [][2]uint64
	// Offset is the DW_TAG_inlined_subroutine entry (its children hold the
	// inlined parameters and locals); AbstractOrigin the inlined function's
	// abstract DW_TAG_subprogram.
	Offset, AbstractOrigin dwarf.Offset
}

type inlineNode struct {
	call     InlinedCall // Ranges are link-time here
	children []*inlineNode
}

func (n *inlineNode) contains(addr uint64) bool {
	for _, r := range n.call.Ranges {
		if addr >= r[0] && addr < r[1] {
			return true
		}
	}
	return false
}

// InlinedCallsAt returns the inlined calls whose bodies contain the run-time
// pc, innermost first; nil when pc is not inside inlined code.
func (bi *BinaryInfo) InlinedCallsAt(pc uint64) []InlinedCall {
	fn := bi.PCToFunc(pc)
	if fn == nil {
		return nil
	}
	nodes, err := fn.inlineTree()
	if err != nil {
		return nil
	}
	bias := bi.Bias()
	addr := pc - bias
	var chain []InlinedCall
	for level := nodes; ; {
		var next *inlineNode
		for _, n := range level {
			if n.contains(addr) {
				next = n
				break
			}
		}
		if next == nil {
			break
		}
		c := next.call
		c.Ranges = make([][2]uint64, len(next.call.Ranges))
		for i, r := range next.call.Ranges {
			c.Ranges[i] = [2]uint64{r[0] + bias, r[1] + bias}
		}
		chain = append(chain, c)
		level = next.children
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

// inlineTree parses the DW_TAG_inlined_subroutine entries nested in fn.
func (fn *Function) inlineTree() ([]*inlineNode, error) {
	fn.inlineOnce.Do(func() { fn.inlined, fn.inlineErr = fn.parseInlineTree() })
	return fn.inlined, fn.inlineErr
}

func (fn *Function) parseInlineTree() ([]*inlineNode, error) {
	bi := fn.CU.bi
	d, err := bi.DWARF()
	if err != nil {
		return nil, err
	}
	fn.CU.mu.Lock()
	files := fn.CU.fileNamesLocked()
	fn.CU.mu.Unlock()
	r := d.Reader()
	r.Seek(fn.Offset)
	top, err := r.Next()
	if err != nil || top == nil {
		return nil, fmt.Errorf("reading %s: %v", fn.Name, err)
	}
	if !top.Children {
		return nil, nil
	}
	var roots []*inlineNode
	// stack[i] is the innermost inlined call enclosing depth i+1, or nil.
	stack := []*inlineNode{nil}
	names := map[dwarf.Offset]string{}
	for len(stack) > 0 {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading inlined calls of %s: %w", fn.Name, err)
		}
		if e == nil {
			break
		}
		if e.Tag == 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		parent := stack[len(stack)-1]
		cur := parent
		if e.Tag == dwarf.TagInlinedSubroutine {
			n := &inlineNode{}
			n.call.Offset = e.Offset
			n.call.AbstractOrigin, _ = e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
			if name, ok := names[n.call.AbstractOrigin]; ok {
				n.call.Func = name
			} else if oe, err := bi.entryAt(n.call.AbstractOrigin); err == nil {
				n.call.Func, _ = oe.Val(dwarf.AttrName).(string)
				names[n.call.AbstractOrigin] = n.call.Func
			}
			if f, ok := e.Val(dwarf.AttrCallFile).(int64); ok && f >= 0 && f < int64(len(files)) {
				n.call.CallFile = files[f]
			}
			line, _ := e.Val(dwarf.AttrCallLine).(int64)
			n.call.CallLine = int(line)
			n.call.Ranges, _ = d.Ranges(e)
			if parent == nil {
				roots = append(roots, n)
			} else {
				parent.children = append(parent.children, n)
			}
			cur = n
		}
		if e.Children {
			stack = append(stack, cur)
		}
	}
	return roots, nil
}
