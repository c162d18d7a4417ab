package bininfo

import (
	"fmt"
	"sort"
)

// Stmt is one is_stmt row of a line table: an address where a source
// statement begins.
type Stmt struct {
	PC   uint64 // run-time address
	File string
	Line int
}

// StmtPCs returns every statement address of fn's code [Entry, End),
// ascending, including the rows of calls inlined into fn (use
// InlinedCallsAt to tell them apart). With inlined, the statements of
// fn's own inlined copies in other functions are added too.
func (bi *BinaryInfo) StmtPCs(fn *Function, inlined bool) ([]Stmt, error) {
	if fn == nil || fn.CU == nil {
		return nil, fmt.Errorf("statements: %w", ErrFuncNotFound)
	}
	out, err := bi.stmtsIn(fn.CU, [][2]uint64{{fn.Entry, fn.End}})
	if err != nil {
		return nil, fmt.Errorf("statements of %s: %w", fn.Name, err)
	}
	if inlined {
		insts, err := bi.InlinedInstances(fn.Name)
		if err != nil {
			return nil, fmt.Errorf("inlined copies of %s: %w", fn.Name, err)
		}
		for _, inst := range insts {
			more, err := bi.stmtsIn(inst.Caller.CU, inst.Ranges)
			if err != nil {
				return nil, fmt.Errorf("statements of %s inlined into %s: %w", fn.Name, inst.Caller.Name, err)
			}
			out = append(out, more...)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].PC < out[j].PC })
	return out, nil
}

// InstanceStmtPCs returns the statement addresses of one inlined copy
// (including calls inlined into it), ascending.
func (bi *BinaryInfo) InstanceStmtPCs(inst InlinedInstance) ([]Stmt, error) {
	if inst.Caller == nil || inst.Caller.CU == nil {
		return nil, fmt.Errorf("statements of inlined %s: no caller", inst.Func)
	}
	out, err := bi.stmtsIn(inst.Caller.CU, inst.Ranges)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].PC < out[j].PC })
	return out, nil
}

// stmtsIn returns the is_stmt rows of cu inside the run-time ranges.
func (bi *BinaryInfo) stmtsIn(cu *CompileUnit, ranges [][2]uint64) ([]Stmt, error) {
	lt, err := cu.lineTable()
	if err != nil {
		return nil, err
	}
	bias := bi.Bias()
	var out []Stmt
	for _, rg := range ranges {
		lt.rowsIn(rg[0]-bias, rg[1]-bias, func(r lineRow) bool {
			if r.isStmt && int(r.file) < len(lt.files) {
				out = append(out, Stmt{PC: r.addr + bias, File: lt.files[r.file], Line: int(r.line)})
			}
			return true
		})
	}
	return out, nil
}
