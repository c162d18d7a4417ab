package bininfo

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
)

type lineRow struct {
	addr        uint64 // link-time
	line        int32
	file        uint32 // index into lineTable.files
	isStmt      bool
	prologueEnd bool
}

// lineSeq is one DWARF line sequence: a contiguous run of code [lo, hi).
type lineSeq struct {
	lo, hi uint64
	rows   []lineRow
}

type lineTable struct {
	files []string  // indexed like DW_AT_decl_file / DW_AT_call_file
	seqs  []lineSeq // sorted by lo
}

// fileNamesLocked returns the unit's file table from the line program
// header only, without decoding the line program. cu.mu must be held.
func (cu *CompileUnit) fileNamesLocked() []string {
	if cu.lines != nil {
		return cu.lines.files
	}
	d, err := cu.bi.DWARF()
	if err != nil {
		return nil
	}
	lr, err := d.LineReader(cu.entry)
	if err != nil || lr == nil {
		return nil
	}
	return fileNames(lr.Files())
}

func fileNames(files []*dwarf.LineFile) []string {
	out := make([]string, len(files))
	for i, f := range files {
		if f != nil {
			out[i] = f.Name
		}
	}
	return out
}

// lineTable returns the unit's decoded line table, parsing it on first use.
func (cu *CompileUnit) lineTable() (*lineTable, error) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	return cu.lineTableLocked()
}

func (cu *CompileUnit) lineTableLocked() (*lineTable, error) {
	if cu.lines != nil || cu.linesErr != nil {
		return cu.lines, cu.linesErr
	}
	cu.lines, cu.linesErr = cu.parseLines()
	return cu.lines, cu.linesErr
}

func (cu *CompileUnit) parseLines() (*lineTable, error) {
	d, err := cu.bi.DWARF()
	if err != nil {
		return nil, err
	}
	lr, err := d.LineReader(cu.entry)
	if err != nil {
		return nil, fmt.Errorf("line table of %s: %w", cu.Name, err)
	}
	lt := &lineTable{}
	if lr == nil {
		return lt, nil
	}
	index := map[*dwarf.LineFile]uint32{}
	for i, f := range lr.Files() {
		if f != nil {
			index[f] = uint32(i)
		}
	}
	lt.files = fileNames(lr.Files())
	var cur []lineRow
	var le dwarf.LineEntry
	for {
		if err := lr.Next(&le); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("line table of %s: %w", cu.Name, err)
		}
		if le.EndSequence {
			if len(cur) > 0 {
				lt.seqs = append(lt.seqs, lineSeq{lo: cur[0].addr, hi: le.Address, rows: cur})
			}
			cur = nil
			continue
		}
		fi, ok := index[le.File]
		if !ok && le.File != nil { // defined by DW_LNE_define_file
			fi = uint32(len(lt.files))
			index[le.File] = fi
			lt.files = append(lt.files, le.File.Name)
		}
		cur = append(cur, lineRow{addr: le.Address, line: int32(le.Line), file: fi, isStmt: le.IsStmt, prologueEnd: le.PrologueEnd})
	}
	sort.Slice(lt.seqs, func(i, j int) bool { return lt.seqs[i].lo < lt.seqs[j].lo })
	return lt, nil
}

// rowAt returns the row describing link-time addr.
func (lt *lineTable) rowAt(addr uint64) (lineRow, bool) {
	i := sort.Search(len(lt.seqs), func(i int) bool { return lt.seqs[i].lo > addr }) - 1
	if i < 0 || addr >= lt.seqs[i].hi {
		return lineRow{}, false
	}
	rows := lt.seqs[i].rows
	j := sort.Search(len(rows), func(j int) bool { return rows[j].addr > addr }) - 1
	return rows[j], true
}

// rowsIn calls f for every row with lo <= addr < hi, in address order.
func (lt *lineTable) rowsIn(lo, hi uint64, f func(lineRow) bool) {
	for _, s := range lt.seqs {
		if s.hi <= lo || s.lo >= hi {
			continue
		}
		for _, r := range s.rows {
			if r.addr >= lo && r.addr < hi && !f(r) {
				return
			}
		}
	}
}

// firstRow returns the address of the first row in [lo, hi) satisfying is.
func (lt *lineTable) firstRow(lo, hi uint64, is func(lineRow) bool) (addr uint64, found bool) {
	lt.rowsIn(lo, hi, func(r lineRow) bool {
		if is(r) {
			addr, found = r.addr, true
			return false
		}
		return true
	})
	return addr, found
}

// PCToLine returns the source position of the run-time pc and the function
// containing it. Inside inlined code the position is that of the inlined
// body; use InlinedCallsAt for the call chain.
func (bi *BinaryInfo) PCToLine(pc uint64) (file string, line int, fn *Function) {
	cu := bi.CompileUnitAt(pc)
	if cu == nil {
		return "", 0, nil
	}
	fn = bi.PCToFunc(pc)
	lt, err := cu.lineTable()
	if err != nil {
		return "", 0, fn
	}
	row, ok := lt.rowAt(pc - bi.Bias())
	if !ok {
		return "", 0, fn
	}
	return lt.files[row.file], int(row.line), fn
}

// FirstPCAfterPrologue returns the run-time address where a breakpoint on
// fn, or a step into it, stops. Delve users expect Delve's stop, so this is
// Delve's rule: the row the compiler marked prologue_end (the frame setup,
// which in -N -l builds is on the func line); without that marker, the
// instruction after a recognised stack-growth check; for a function with
// neither, its first is_stmt row, so that `break fn` and `break file:line`
// on that statement agree.
func (bi *BinaryInfo) FirstPCAfterPrologue(fn *Function) uint64 {
	return bi.afterPrologue(fn, true)
}

// FrameSetupEnd returns the end of fn's frame setup: its prologue_end row,
// else the instruction after its stack-growth check, else its entry. Up to
// there the function has run no code of its own, so the registers still
// hold what the caller passed, the closure context among them.
func (bi *BinaryInfo) FrameSetupEnd(fn *Function) uint64 {
	return bi.prologue(fn, true, false)
}

// afterPrologue implements FirstPCAfterPrologue; useMarker=false ignores
// prologue_end so tests can exercise the fallback on real functions.
func (bi *BinaryInfo) afterPrologue(fn *Function, useMarker bool) uint64 {
	return bi.prologue(fn, useMarker, true)
}

// prologue finds the end of fn's prologue from its prologue_end row (when
// useMarker), else its stack-growth check, else (when useStmt) its first
// statement, else its entry.
func (bi *BinaryInfo) prologue(fn *Function, useMarker, useStmt bool) uint64 {
	if fn == nil || fn.CU == nil {
		return 0
	}
	lt, err := fn.CU.lineTable()
	if err != nil {
		return fn.Entry
	}
	bias := bi.Bias()
	lo, hi := fn.Entry-bias, fn.End-bias
	if useMarker {
		if marked, found := lt.firstRow(lo, hi, func(r lineRow) bool { return r.prologueEnd }); found {
			return marked + bias
		}
	}
	if after := bi.stackCheckEnd(lo, hi); after != lo || !useStmt {
		return after + bias
	}
	stmt, found := lt.firstRow(lo, hi, func(r lineRow) bool { return r.isStmt })
	if !found {
		return fn.Entry
	}
	return stmt + bias
}

type sourceIndex struct {
	err   error
	files []string                  // sorted
	units map[string][]*CompileUnit // file -> units whose file table lists it
}

// loadSources reads the file table of every unit (line program headers only).
func (bi *BinaryInfo) loadSources() (*sourceIndex, error) {
	bi.srcOnce.Do(func() {
		idx, err := bi.loadUnits()
		if err != nil {
			bi.sources.err = err
			return
		}
		si := &bi.sources
		si.units = map[string][]*CompileUnit{}
		for _, cu := range idx.list {
			cu.mu.Lock()
			names := cu.fileNamesLocked()
			cu.mu.Unlock()
			for _, n := range names {
				if n == "" {
					continue
				}
				us := si.units[n]
				if len(us) == 0 || us[len(us)-1] != cu {
					si.units[n] = append(us, cu)
				}
			}
		}
		for n := range si.units {
			si.files = append(si.files, n)
		}
		sort.Strings(si.files)
	})
	return &bi.sources, bi.sources.err
}

// Sources returns the sorted paths of all source files named by line tables.
func (bi *BinaryInfo) Sources() ([]string, error) {
	si, err := bi.loadSources()
	if err != nil {
		return nil, err
	}
	return append([]string(nil), si.files...), nil
}

// ResolveFile maps a user-supplied file name to the path recorded in the
// binary: an exact path, or a unique path suffix such as "main.go" or
// "basic/main.go".
func (bi *BinaryInfo) ResolveFile(file string) (string, error) {
	si, err := bi.loadSources()
	if err != nil {
		return "", err
	}
	if _, ok := si.units[file]; ok {
		return file, nil
	}
	var matches []string
	for _, n := range si.files {
		if strings.HasSuffix(n, "/"+strings.TrimPrefix(file, "/")) {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		base := path.Base(file)
		var cands []string
		for _, n := range si.files {
			cands = append(cands, n)
		}
		if c := closestFiles(base, cands, 3); len(c) > 0 {
			return "", fmt.Errorf("%s: %w (did you mean %s?)", file, ErrFileNotFound, strings.Join(c, ", "))
		}
		return "", fmt.Errorf("%s: %w", file, ErrFileNotFound)
	default:
		if len(matches) > 3 {
			matches = append(matches[:3], "...")
		}
		return "", fmt.Errorf("%s: %w: ambiguous, matches %s", file, ErrFileNotFound, strings.Join(matches, ", "))
	}
}

// LineToPCs returns the sorted run-time addresses of all is_stmt rows for
// file:line. file is resolved as in ResolveFile. When the line has no code
// the error names the nearest lines that do.
func (bi *BinaryInfo) LineToPCs(file string, line int) ([]uint64, error) {
	full, err := bi.ResolveFile(file)
	if err != nil {
		return nil, err
	}
	si, _ := bi.loadSources()
	bias := bi.Bias()
	var pcs []uint64
	var below, above int // nearest lines with code, for the error
	for _, cu := range si.units[full] {
		lt, err := cu.lineTable()
		if err != nil {
			return nil, err
		}
		fi := -1
		for i, n := range lt.files {
			if n == full {
				fi = i
				break
			}
		}
		if fi < 0 {
			continue
		}
		for _, s := range lt.seqs {
			for _, r := range s.rows {
				if r.file != uint32(fi) || !r.isStmt {
					continue
				}
				l := int(r.line)
				switch {
				case l == line:
					pcs = append(pcs, r.addr+bias)
				case l < line && l > below:
					below = l
				case l > line && (above == 0 || l < above):
					above = l
				}
			}
		}
	}
	if len(pcs) == 0 {
		var near []string
		for _, l := range []int{below, above} {
			if l > 0 {
				near = append(near, strconv.Itoa(l))
			}
		}
		if len(near) > 0 {
			return nil, fmt.Errorf("%s:%d: %w (nearest lines with code: %s)", full, line, ErrNoCode, strings.Join(near, ", "))
		}
		return nil, fmt.Errorf("%s:%d: %w", full, line, ErrNoCode)
	}
	sort.Slice(pcs, func(i, j int) bool { return pcs[i] < pcs[j] })
	out := pcs[:1]
	for _, pc := range pcs[1:] {
		if pc != out[len(out)-1] {
			out = append(out, pc)
		}
	}
	return out, nil
}
