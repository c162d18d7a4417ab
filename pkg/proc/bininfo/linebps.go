package bininfo

import "sort"

// LineBreakpointPCs returns where a breakpoint on file:line goes, as Delve
// places it: one address in each body holding the line (every out-of-line
// function and every inlined copy, the innermost one containing the row),
// its first statement row, or its first row when none of the body's rows
// is a statement (a second inlined copy of a closure may have none). The
// compiler-made wrapper of a go or defer statement, whose code is on that
// statement's line, is no body of it. A row at a function's entry is its
// stack check, before the frame exists, as for the closure on the line
// `f := func() {...}`: it moves as entryBreakpoint says. It fails like
// LineToPCs when the line has no row.
func (bi *BinaryInfo) LineBreakpointPCs(file string, line int) ([]uint64, error) {
	_, rows, noStmt, err := bi.lineRows(file, line)
	if err != nil {
		return nil, err
	}
	type body struct{ fn, inl uint64 }
	first := map[body]lineHit{}
	funcs := map[body]*Function{}
	var order []body
	for _, r := range rows { // ascending
		fn := bi.PCToFunc(r.pc)
		if fn != nil && fn.Trampoline {
			continue
		}
		var b body
		if fn != nil {
			b.fn = fn.Entry
		}
		if inl := bi.InlinedCallsAt(r.pc); len(inl) > 0 && len(inl[0].Ranges) > 0 {
			b.inl = inl[0].Ranges[0][0]
		}
		prev, seen := first[b]
		switch {
		case !seen:
			order = append(order, b)
			first[b], funcs[b] = r, fn
		case !prev.stmt && r.stmt:
			first[b] = r
		}
	}
	if len(order) == 0 {
		return nil, noStmt
	}
	var out []uint64
	for _, b := range order {
		pc := first[b].pc
		if fn := funcs[b]; fn != nil && b.inl == 0 && fn.Entry == pc {
			pc = bi.entryBreakpoint(fn)
		}
		out = append(out, pc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// entryBreakpoint is where a line breakpoint that fell on fn's entry goes
// (Delve's FirstPCAfterPrologue on the same line): past the prologue
// (prologue_end, else a stack-growth check) when that is still on the
// entry's line; else fn's first statement row, wherever it is; else the
// entry itself.
func (bi *BinaryInfo) entryBreakpoint(fn *Function) uint64 {
	if fn.CU == nil {
		return fn.Entry
	}
	lt, err := fn.CU.lineTable()
	if err != nil {
		return fn.Entry
	}
	bias := bi.Bias()
	lo, hi := fn.Entry-bias, fn.End-bias
	lineOf := func(addr uint64) int32 {
		if r, ok := lt.rowAt(addr); ok {
			return r.line
		}
		return -1
	}
	entryLine := lineOf(lo)
	var marked, stmt uint64
	var hasMark, hasStmt bool
	lt.rowsIn(lo, hi, func(r lineRow) bool {
		if r.prologueEnd && !hasMark {
			marked, hasMark = r.addr, true
		}
		if r.isStmt && !hasStmt {
			stmt, hasStmt = r.addr, true
		}
		return !hasMark || !hasStmt
	})
	if hasMark && lineOf(marked) == entryLine {
		return marked + bias
	}
	if after := bi.stackCheckEnd(lo, hi); after != lo && lineOf(after) == entryLine {
		return after + bias
	}
	if hasStmt {
		return stmt + bias
	}
	return fn.Entry
}
