package bininfo

import "sort"

// LineBreakpointPCs returns where a breakpoint on file:line goes, as Delve
// places it: one address in each body holding the line (every out-of-line
// function and every inlined copy, the innermost one containing the row),
// its first statement row, or its first row when none of the body's rows
// is a statement (a second inlined copy of a closure may have none). A row
// at a function's entry is its stack check, before the frame exists, as
// for the closure on the line `f := func() {...}`: it moves past the
// prologue, where the function's own breakpoint is, when that is still on
// the line. It fails like LineToPCs when the line has no statement.
func (bi *BinaryInfo) LineBreakpointPCs(file string, line int) ([]uint64, error) {
	full, rows, err := bi.lineRows(file, line)
	if err != nil {
		return nil, err
	}
	type body struct{ fn, inl uint64 }
	first := map[body]lineHit{}
	var order []body
	for _, r := range rows { // ascending
		var b body
		if fn := bi.PCToFunc(r.pc); fn != nil {
			b.fn = fn.Entry
		}
		if inl := bi.InlinedCallsAt(r.pc); len(inl) > 0 && len(inl[0].Ranges) > 0 {
			b.inl = inl[0].Ranges[0][0]
		}
		prev, seen := first[b]
		switch {
		case !seen:
			order = append(order, b)
			first[b] = r
		case !prev.stmt && r.stmt:
			first[b] = r
		}
	}
	var out []uint64
	for _, b := range order {
		pc := first[b].pc
		if fn := bi.PCToFunc(pc); fn != nil && fn.Entry == pc {
			if after := bi.FirstPCAfterPrologue(fn); after != pc {
				if f, l, _ := bi.PCToLine(after); f == full && l == line {
					pc = after
				}
			}
		}
		out = append(out, pc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
