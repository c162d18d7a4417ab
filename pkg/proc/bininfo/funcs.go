package bininfo

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Function is one concrete (out-of-line) function of the program.
type Function struct {
	Name       string
	Entry, End uint64 // run-time addresses, [Entry, End)
	DeclFile   string // absolute path of the file declaring the function
	DeclLine   int
	Offset     dwarf.Offset // the DW_TAG_subprogram entry
	// AbstractOrigin is the abstract DIE of an inlinable function's
	// out-of-line copy (holding names of parameters), or 0.
	AbstractOrigin dwarf.Offset
	// Trampoline is DW_AT_trampoline: a wrapper the compiler made to call
	// another function (the gowrap of a go statement, a deferwrap).
	Trampoline bool
	CU         *CompileUnit

	inlineOnce sync.Once
	inlined    []*inlineNode
	inlineErr  error
}

// Optimized reports whether the function was compiled with optimizations.
func (fn *Function) Optimized() bool { return fn.CU != nil && fn.CU.Optimized() }

// abstractInfo is what an inlined call needs from its abstract origin.
type abstractInfo struct {
	name     string
	declLine int
	declFile int64 // index into the unit's file table, -1 if absent
}

// functions returns the unit's concrete functions, parsing them on first use.
func (cu *CompileUnit) functions() ([]*Function, error) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	bias := cu.bi.Bias()
	if cu.funcsDone && cu.funcsBias == bias {
		return cu.funcs, nil
	}
	d, err := cu.bi.DWARF()
	if err != nil {
		return nil, err
	}
	files := cu.fileNamesLocked()
	type pending struct {
		fn       *Function
		declFile int64
	}
	var list []pending
	abstract := map[dwarf.Offset]abstractInfo{}
	r := d.Reader()
	r.Seek(cu.Offset)
	if _, err := r.Next(); err != nil {
		return nil, fmt.Errorf("reading unit %s: %w", cu.Name, err)
	}
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading functions of %s: %w", cu.Name, err)
		}
		if e == nil || e.Tag == 0 {
			break
		}
		if e.Tag == dwarf.TagSubprogram {
			name, _ := e.Val(dwarf.AttrName).(string)
			line, _ := e.Val(dwarf.AttrDeclLine).(int64)
			declFile := int64(-1)
			if f, ok := e.Val(dwarf.AttrDeclFile).(int64); ok {
				declFile = f
			}
			low, hasLow := e.Val(dwarf.AttrLowpc).(uint64)
			if _, ok := e.Val(dwarf.AttrInline).(int64); ok || !hasLow {
				abstract[e.Offset] = abstractInfo{name: name, declLine: int(line), declFile: declFile}
			} else {
				fn := &Function{Name: name, Entry: low + bias, End: low + bias, DeclLine: int(line), Offset: e.Offset, CU: cu}
				switch hi := e.Val(dwarf.AttrHighpc).(type) {
				case int64: // DWARF 4+: length from low_pc
					fn.End = low + uint64(hi) + bias
				case uint64:
					fn.End = hi + bias
				}
				fn.AbstractOrigin, _ = e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
				fn.Trampoline, _ = e.Val(dwarf.AttrTrampoline).(bool)
				list = append(list, pending{fn, declFile})
			}
		}
		r.SkipChildren()
	}
	cu.funcs = cu.funcs[:0]
	cu.byOffset = make(map[dwarf.Offset]*Function, len(list))
	for _, p := range list {
		fn := p.fn
		if fn.AbstractOrigin != 0 {
			ai, ok := abstract[fn.AbstractOrigin]
			if !ok {
				ai = cu.bi.abstractFromOtherUnit(fn.AbstractOrigin)
			}
			if fn.Name == "" {
				fn.Name = ai.name
			}
			if fn.DeclLine == 0 {
				fn.DeclLine = ai.declLine
			}
			if p.declFile < 0 && ok {
				p.declFile = ai.declFile
			}
		}
		if p.declFile >= 0 && p.declFile < int64(len(files)) {
			fn.DeclFile = files[p.declFile]
		}
		cu.funcs = append(cu.funcs, fn)
		cu.byOffset[fn.Offset] = fn
	}
	sort.Slice(cu.funcs, func(i, j int) bool { return cu.funcs[i].Entry < cu.funcs[j].Entry })
	// Abstract origins carry no DW_AT_decl_file in Go's output, so the
	// out-of-line copy of an inlinable function gets its file from the line
	// table row at its entry.
	for _, fn := range cu.funcs {
		if fn.DeclFile == "" {
			if lt, err := cu.lineTableLocked(); err == nil {
				if row, ok := lt.rowAt(fn.Entry - bias); ok {
					fn.DeclFile = lt.files[row.file]
				}
			}
		}
	}
	cu.funcsDone, cu.funcsBias = true, bias
	return cu.funcs, nil
}

// abstractFromOtherUnit reads an abstract origin living in another unit.
func (bi *BinaryInfo) abstractFromOtherUnit(off dwarf.Offset) abstractInfo {
	e, err := bi.entryAt(off)
	if err != nil {
		return abstractInfo{declFile: -1}
	}
	name, _ := e.Val(dwarf.AttrName).(string)
	line, _ := e.Val(dwarf.AttrDeclLine).(int64)
	return abstractInfo{name: name, declLine: int(line), declFile: -1}
}

// PCToFunc returns the function containing the run-time pc, or nil.
func (bi *BinaryInfo) PCToFunc(pc uint64) *Function {
	cu := bi.CompileUnitAt(pc)
	if cu == nil {
		return nil
	}
	fns, err := cu.functions()
	if err != nil {
		return nil
	}
	i := sort.Search(len(fns), func(i int) bool { return fns[i].Entry > pc }) - 1
	if i >= 0 && pc < fns[i].End {
		return fns[i]
	}
	return nil
}

// FuncAtOffset returns the concrete function whose DW_TAG_subprogram is at off.
func (bi *BinaryInfo) FuncAtOffset(off dwarf.Offset) *Function {
	cu := bi.unitOfOffset(off)
	if cu == nil {
		return nil
	}
	if _, err := cu.functions(); err != nil {
		return nil
	}
	cu.mu.Lock()
	defer cu.mu.Unlock()
	return cu.byOffset[off]
}

// LookupFunc finds a function by its fully qualified name, as Go prints it
// ("main.main", "main.(*Point).Scale"). Assembly functions are found under
// either spelling: the ELF symbol carries an ABI suffix
// ("runtime.goexit.abi0") that the DWARF name lacks. On failure the error
// names up to three similar existing functions.
func (bi *BinaryInfo) LookupFunc(name string) (*Function, error) {
	st := bi.loadSymbols()
	for _, sym := range abiSpellings(name) {
		i, ok := st.byName[sym]
		if !ok || st.all[i].typ() != elf.STT_FUNC {
			continue
		}
		pc := st.all[i].value + bi.Bias()
		if fn := bi.PCToFunc(pc); fn != nil && fn.Entry == pc {
			return fn, nil
		}
		if _, err := bi.loadUnits(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("function %s: %w (it has a symbol but no DWARF entry)", name, ErrFuncNotFound)
	}
	hint := bi.inlinedAwayHint(name)
	if close := closest(name, bi.funcNames(), 3); len(close) > 0 {
		return nil, fmt.Errorf("function %s: %w (did you mean %s?)%s", name, ErrFuncNotFound, strings.Join(close, ", "), hint)
	}
	return nil, fmt.Errorf("function %s: %w%s", name, ErrFuncNotFound, hint)
}

// abiSuffixes are the suffixes the Go linker appends to the ELF symbols of
// functions whose ABI differs from the default one of their package.
var abiSuffixes = []string{".abi0", ".abiinternal"}

// abiSpellings returns name first, then the same function with its ABI
// suffix added (when name has none) or removed (when it has one).
func abiSpellings(name string) []string {
	for _, suf := range abiSuffixes {
		if base, ok := strings.CutSuffix(name, suf); ok {
			return []string{name, base}
		}
	}
	out := []string{name}
	for _, suf := range abiSuffixes {
		out = append(out, name+suf)
	}
	return out
}

// inlinedAwayHint explains a missing function of an optimized package: the
// compiler drops a function that was inlined at every call site (and whose
// inlined copies were folded into constants) from both the symbol table and
// DWARF, so the debugger cannot tell it from a typo.
func (bi *BinaryInfo) inlinedAwayHint(name string) string {
	pkg := name
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		if j := strings.Index(pkg[i:], "."); j >= 0 {
			pkg = pkg[:i+j]
		}
	} else if j := strings.Index(pkg, "."); j >= 0 {
		pkg = pkg[:j]
	}
	cu := bi.CompileUnitByName(pkg)
	if cu == nil || !cu.Optimized() {
		return ""
	}
	return fmt.Sprintf(" (package %s is optimized: a function inlined at every call site leaves no trace; rebuild with -gcflags='all=-N -l')", pkg)
}

// FuncsMatching returns the functions whose names match re, sorted by name.
func (bi *BinaryInfo) FuncsMatching(re *regexp.Regexp) []*Function {
	var out []*Function
	for _, name := range bi.funcNames() {
		if !re.MatchString(name) {
			continue
		}
		if fn, err := bi.LookupFunc(name); err == nil {
			out = append(out, fn)
		}
	}
	return out
}
