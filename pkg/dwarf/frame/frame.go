// Package frame reads DWARF call frame information (CFI): the .debug_frame
// section the Go linker writes and the .eh_frame section C compilers write
// into cgo binaries. Given a program counter it yields the rules that recover
// the canonical frame address (CFA) and the caller's registers.
//
// Parsing is lazy: Parse walks only the entry headers to build a sorted index
// of FDE address ranges, and an FDE's instructions are interpreted only when
// RulesAt is called on it. All addresses are static addresses, as in the ELF
// file; callers subtract the load bias of position-independent executables.
package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
)

// ErrTruncated is wrapped by a dwarfbuf.DecodeError when data ends inside
// an entry. It is dwarfbuf.ErrTruncated, shared by every DWARF decoder.
var ErrTruncated = dwarfbuf.ErrTruncated

// ErrMalformed is wrapped by a dwarfbuf.DecodeError when a value is out of
// range or structurally invalid. It is dwarfbuf.ErrMalformed.
var ErrMalformed = dwarfbuf.ErrMalformed

// ErrUnsupported is wrapped by a dwarfbuf.DecodeError for valid CFI this package does
// not implement (for example data-relative pointer encodings).
var ErrUnsupported = errors.New("unsupported CFI feature")

// ErrNoFDE matches (via errors.Is) every NoFDEError.
var ErrNoFDE = errors.New("no FDE covers the address")

// NoFDEError is returned by Table.FDEForPC when no FDE covers the address.
type NoFDEError struct {
	PC uint64 // the static address that was looked up
}

// Error describes the address without frame information.
func (e *NoFDEError) Error() string {
	return fmt.Sprintf("no call frame information for pc %#x", e.PC)
}

// Is makes errors.Is(err, ErrNoFDE) true for every NoFDEError.
func (e *NoFDEError) Is(target error) bool { return target == ErrNoFDE }

// Table is an index of the FDEs of one CFI section, sorted by start address.
type Table struct {
	data        []byte
	order       binary.ByteOrder
	ptrSize     int
	sectionAddr uint64
	ehFrame     bool
	cies        map[uint64]*CIE // by section offset; a binary has few CIEs
	cieList     []*CIE          // by CIE.index, so that fdeRef holds no pointer
	index       []fdeRef        // sorted by begin, zero-length FDEs dropped
	overlaps    bool            // some FDE starts inside an earlier one
}

// fdeRef is the compact per-FDE index record. Only what a lookup needs is
// kept; the instructions stay in the section bytes until RulesAt. It holds
// no pointers, so a 50k-entry index costs the garbage collector nothing.
type fdeRef struct {
	begin, end uint64
	off        uint32 // section offset of the FDE's length field
	insnStart  uint32 // section offset of the first instruction
	insnEnd    uint32 // section offset just past the instructions
	cie        uint32 // index into Table.cieList
}

// sectionName returns the name used in error messages.
func sectionName(ehFrame bool) string {
	if ehFrame {
		return ".eh_frame"
	}
	return ".debug_frame"
}

// Parse indexes a .debug_frame (isEHFrame false) or .eh_frame (isEHFrame
// true) section. order and ptrSize describe the target; sectionAddr is the
// section's static virtual address, needed to resolve .eh_frame's
// PC-relative pointers. Only entry headers are decoded here.
func Parse(data []byte, order binary.ByteOrder, ptrSize int, sectionAddr uint64, isEHFrame bool) (*Table, error) {
	if ptrSize != 4 && ptrSize != 8 {
		return nil, &dwarfbuf.DecodeError{Name: sectionName(isEHFrame), Err: fmt.Errorf("%w: pointer size %d", ErrUnsupported, ptrSize)}
	}
	if uint64(len(data)) > 1<<32-1 {
		return nil, &dwarfbuf.DecodeError{Name: sectionName(isEHFrame), Err: fmt.Errorf("%w: section of %d bytes exceeds 4 GiB", ErrUnsupported, len(data))}
	}
	t := &Table{
		data:        data,
		order:       order,
		ptrSize:     ptrSize,
		sectionAddr: sectionAddr,
		ehFrame:     isEHFrame,
		cies:        make(map[uint64]*CIE),
		index:       make([]fdeRef, 0, countEntries(data, order)),
	}
	sorted := true
	for off := uint64(0); off < uint64(len(data)); {
		e, err := t.readEntryHeader(off)
		if err != nil {
			return nil, err
		}
		if e.terminator {
			break
		}
		if !e.isCIE && !e.padding {
			ref, err := t.readFDEHeader(e)
			if err != nil {
				return nil, err
			}
			if ref.end > ref.begin {
				if n := len(t.index); n > 0 && t.index[n-1].begin > ref.begin {
					sorted = false
				}
				t.index = append(t.index, ref)
			}
		}
		off = e.next
	}
	if !sorted {
		// The Go linker emits FDEs in text order, so this sort is usually
		// skipped; C toolchains may not.
		slices.SortStableFunc(t.index, func(a, b fdeRef) int {
			switch {
			case a.begin < b.begin:
				return -1
			case a.begin > b.begin:
				return 1
			}
			return 0
		})
	}
	var maxEnd uint64
	for _, ref := range t.index {
		if ref.begin < maxEnd {
			t.overlaps = true
			break
		}
		maxEnd = max(maxEnd, ref.end)
	}
	return t, nil
}

// countEntries returns the number of entries in data by following only their
// length fields, so that the index is allocated once. Errors are left for
// the real walk to report.
func countEntries(data []byte, order binary.ByteOrder) int {
	n := 0
	for off := uint64(0); off+4 <= uint64(len(data)); n++ {
		length := uint64(order.Uint32(data[off:]))
		off += 4
		if length == 0xffffffff {
			if off+8 > uint64(len(data)) {
				break
			}
			length = order.Uint64(data[off:])
			off += 8
		}
		if length > uint64(len(data))-off {
			break
		}
		off += length
	}
	return n
}

// Len returns the number of indexed FDEs (those with a non-empty range).
func (t *Table) Len() int { return len(t.index) }

// FDE returns the i-th FDE in address order, 0 <= i < Len().
func (t *Table) FDE(i int) *FDE {
	return t.materialize(&t.index[i])
}

// FDEForPC returns the FDE whose range [Begin, End) contains the static
// address pc, or a *NoFDEError.
func (t *Table) FDEForPC(pc uint64) (*FDE, error) {
	// First entry starting after pc; the candidate is the one before it.
	i := sort.Search(len(t.index), func(i int) bool { return t.index[i].begin > pc })
	if i == 0 {
		return nil, &NoFDEError{PC: pc}
	}
	if ref := &t.index[i-1]; pc < ref.end {
		return t.materialize(ref), nil
	}
	if t.overlaps {
		// Compilers never emit overlapping FDEs, so a linear scan for an
		// enclosing one is acceptable for such odd input.
		for j := i - 2; j >= 0; j-- {
			if ref := &t.index[j]; pc < ref.end {
				return t.materialize(ref), nil
			}
		}
	}
	return nil, &NoFDEError{PC: pc}
}

func (t *Table) materialize(ref *fdeRef) *FDE {
	return &FDE{
		CIE:      t.cieList[ref.cie],
		Offset:   uint64(ref.off),
		begin:    ref.begin,
		end:      ref.end,
		insns:    t.data[ref.insnStart:ref.insnEnd:ref.insnEnd],
		insnBase: uint64(ref.insnStart),
		table:    t,
	}
}
