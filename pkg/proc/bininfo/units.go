package bininfo

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// CompileUnit is one DWARF compile unit; the Go toolchain emits one per
// package (plus a few for assembly and generated code).
type CompileUnit struct {
	Name     string       // package path, e.g. "main" or "runtime"
	Offset   dwarf.Offset // offset of the DW_TAG_compile_unit entry
	Version  int          // DWARF version of the unit header (4 or 5 for Go)
	Producer string       // e.g. "Go cmd/compile go1.26.8; -N -l regabi"
	// AddrBase, LoclistsBase and RnglistsBase are the DWARF 5 section offsets
	// (DW_AT_addr_base, ...) into .debug_addr, .debug_loclists and
	// .debug_rnglists; zero when absent.
	AddrBase, LoclistsBase, RnglistsBase uint64

	bi     *BinaryInfo
	entry  *dwarf.Entry
	lowPC  uint64      // link-time DW_AT_low_pc
	ranges [][2]uint64 // link-time

	mu        sync.Mutex
	funcs     []*Function // sorted by Entry
	funcsBias uint64
	funcsDone bool
	byOffset  map[dwarf.Offset]*Function
	lines     *lineTable
	linesErr  error
	vars      []PackageVar
	varsBias  uint64
	varsDone  bool
}

// Optimized reports whether the unit was compiled with optimizations (no -N).
func (cu *CompileUnit) Optimized() bool { return !strings.Contains(cu.Producer, "-N") }

// Ranges returns the run-time address ranges [lo, hi) covered by the unit.
func (cu *CompileUnit) Ranges() [][2]uint64 {
	b := cu.bi.Bias()
	out := make([][2]uint64, len(cu.ranges))
	for i, r := range cu.ranges {
		out[i] = [2]uint64{r[0] + b, r[1] + b}
	}
	return out
}

type unitRange struct {
	lo, hi uint64
	cu     *CompileUnit
}

type unitIndex struct {
	err    error
	list   []*CompileUnit // in .debug_info order, i.e. sorted by Offset
	byName map[string]*CompileUnit
	ranges []unitRange // sorted by lo
}

// loadUnits reads only the top-level entry of each unit: SkipChildren on a
// compile unit jumps straight to the next unit header.
func (bi *BinaryInfo) loadUnits() (*unitIndex, error) {
	bi.unitOnce.Do(func() {
		d, err := bi.DWARF()
		if err != nil {
			bi.units.err = err
			return
		}
		versions := bi.unitVersions()
		idx := &bi.units
		idx.byName = map[string]*CompileUnit{}
		r := d.Reader()
		for {
			e, err := r.Next()
			if err != nil {
				idx.err = fmt.Errorf("indexing compile units: %w", err)
				return
			}
			if e == nil {
				break
			}
			if e.Tag != dwarf.TagCompileUnit {
				r.SkipChildren()
				continue
			}
			cu := &CompileUnit{bi: bi, entry: e, Offset: e.Offset}
			cu.Name, _ = e.Val(dwarf.AttrName).(string)
			cu.Producer, _ = e.Val(dwarf.AttrProducer).(string)
			cu.Version = versions[e.Offset]
			cu.lowPC, _ = e.Val(dwarf.AttrLowpc).(uint64)
			cu.AddrBase = attrUint(e, dwarf.AttrAddrBase)
			cu.LoclistsBase = attrUint(e, dwarf.AttrLoclistsBase)
			cu.RnglistsBase = attrUint(e, dwarf.AttrRnglistsBase)
			if rs, err := d.Ranges(e); err == nil {
				cu.ranges = rs
				for _, rg := range rs {
					if rg[1] > rg[0] {
						idx.ranges = append(idx.ranges, unitRange{rg[0], rg[1], cu})
					}
				}
			}
			idx.list = append(idx.list, cu)
			if _, dup := idx.byName[cu.Name]; !dup {
				idx.byName[cu.Name] = cu
			}
			r.SkipChildren()
		}
		sort.Slice(idx.ranges, func(i, j int) bool { return idx.ranges[i].lo < idx.ranges[j].lo })
	})
	return &bi.units, bi.units.err
}

// LowPC returns the unit's base address for location and range lists, at
// run time (DW_AT_low_pc plus the load bias).
func (cu *CompileUnit) LowPC() uint64 { return cu.lowPC + cu.bi.Bias() }

func attrUint(e *dwarf.Entry, a dwarf.Attr) uint64 {
	switch v := e.Val(a).(type) {
	case int64:
		return uint64(v)
	case uint64:
		return v
	}
	return 0
}

// unitVersions maps the offset of each unit's first entry to the DWARF
// version in its header, which debug/dwarf does not expose.
func (bi *BinaryInfo) unitVersions() map[dwarf.Offset]int {
	info, err := bi.Section(".debug_info")
	if err != nil {
		return nil
	}
	out := map[dwarf.Offset]int{}
	le := binary.LittleEndian
	for off := uint64(0); off+11 <= uint64(len(info)); {
		length := uint64(le.Uint32(info[off:]))
		hdr := uint64(4)
		if length == 0xffffffff {
			if off+12 > uint64(len(info)) {
				break
			}
			length = le.Uint64(info[off+4:])
			hdr = 12
		}
		vers := int(le.Uint16(info[off+hdr:]))
		offSize := uint64(4)
		if hdr == 12 {
			offSize = 8
		}
		// v2-4: version, abbrev offset, address size; v5 adds unit type first.
		first := off + hdr + 2 + offSize + 1
		if vers >= 5 {
			first++
		}
		out[dwarf.Offset(first)] = vers
		off += hdr + length
	}
	return out
}

// CompileUnits returns all compile units in .debug_info order.
func (bi *BinaryInfo) CompileUnits() ([]*CompileUnit, error) {
	idx, err := bi.loadUnits()
	if err != nil {
		return nil, err
	}
	return append([]*CompileUnit(nil), idx.list...), nil
}

// CompileUnitByName returns the unit of a package path such as "runtime".
func (bi *BinaryInfo) CompileUnitByName(name string) *CompileUnit {
	idx, err := bi.loadUnits()
	if err != nil {
		return nil
	}
	return idx.byName[name]
}

// unitAtLinkPC returns the unit whose ranges contain the link-time address.
func (bi *BinaryInfo) unitAtLinkPC(addr uint64) *CompileUnit {
	idx, err := bi.loadUnits()
	if err != nil {
		return nil
	}
	i := sort.Search(len(idx.ranges), func(i int) bool { return idx.ranges[i].lo > addr }) - 1
	if i >= 0 && addr < idx.ranges[i].hi {
		return idx.ranges[i].cu
	}
	return nil
}

// CompileUnitAt returns the unit containing the run-time pc, or nil.
func (bi *BinaryInfo) CompileUnitAt(pc uint64) *CompileUnit {
	return bi.unitAtLinkPC(pc - bi.Bias())
}

// unitOfOffset returns the unit containing the DIE at off.
func (bi *BinaryInfo) unitOfOffset(off dwarf.Offset) *CompileUnit {
	idx, err := bi.loadUnits()
	if err != nil {
		return nil
	}
	i := sort.Search(len(idx.list), func(i int) bool { return idx.list[i].Offset > off }) - 1
	if i < 0 {
		return nil
	}
	return idx.list[i]
}

// entryAt reads the single entry at off.
func (bi *BinaryInfo) entryAt(off dwarf.Offset) (*dwarf.Entry, error) {
	d, err := bi.DWARF()
	if err != nil {
		return nil, err
	}
	r := d.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("no DWARF entry at offset %#x", off)
	}
	return e, nil
}
