// Package loclist reads DWARF location lists: the DWARF 4 .debug_loc section
// (Go up to 1.24) and the DWARF 5 .debug_loclists section (Go 1.25 and
// later, gcc 11 and later). A location list maps PC ranges to location
// expressions; package op evaluates the expression found here.
//
// Callers get the list offset from a variable's DW_AT_location (class
// ClassLocListPtr in debug/dwarf, or ClassLocList for DW_FORM_loclistx, see
// Dwarf5Reader.OffsetOfIndex) and the Unit attributes from its compile unit.
package loclist

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
)

// Unit holds the attributes of the compile unit a list belongs to, which its
// addresses are relative to. All addresses are link-time addresses as they
// appear in DWARF; StaticBase turns them into run-time addresses.
type Unit struct {
	// Base is the CU's DW_AT_low_pc: the initial base address of
	// offset-pair entries (0 if the CU has none).
	Base uint64
	// AddrBase is the CU's DW_AT_addr_base: where its slice of .debug_addr
	// starts (DWARF 5 only).
	AddrBase uint64
	// StaticBase is the load bias added to every address returned (the
	// difference between run-time and link-time addresses; non-zero for
	// PIE). The pc passed to Find is a run-time address.
	StaticBase uint64
}

// Entry is one location-list entry after resolution.
type Entry struct {
	// LowPC and HighPC delimit the run-time PC range [LowPC, HighPC) in which
	// Instr describes the variable. Empty ranges (LowPC == HighPC) occur in
	// Go output and match no PC.
	LowPC, HighPC uint64
	// Default marks a DW_LLE_default_location entry: Instr applies at every
	// PC not covered by another entry; LowPC and HighPC are 0.
	Default bool
	// Instr is the location expression; it aliases the section data.
	Instr []byte
}

// Reader is what both section formats offer.
type Reader interface {
	// Find returns the expression of the list at section offset off that
	// covers run-time address pc, or (nil, nil) when none does (the variable
	// is not available there).
	Find(off int64, u Unit, pc uint64) ([]byte, error)
	// Entries returns every entry of the list at off, in section order.
	Entries(off int64, u Unit) ([]Entry, error)
}

// Errors returned by the readers; they are wrapped with the position.
// ErrTruncated and ErrMalformed are those of package dwarfbuf, shared by
// every DWARF decoder.
var (
	ErrTruncated   = dwarfbuf.ErrTruncated
	ErrMalformed   = dwarfbuf.ErrMalformed
	ErrBadAddrSize = errors.New("unsupported address size")
)

// maxEntries bounds one list so that corrupt data cannot make Entries
// allocate without limit; real lists have a handful of entries.
const maxEntries = 1 << 20

// find scans a list with iterate and applies the DWARF 5 default rule.
func find(iterate func(func(Entry) bool) error, pc uint64) ([]byte, error) {
	var found, def []byte
	haveDefault := false
	err := iterate(func(e Entry) bool {
		if e.Default {
			def, haveDefault = e.Instr, true
			return true
		}
		if pc >= e.LowPC && pc < e.HighPC {
			found = e.Instr
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if found != nil {
		return found, nil
	}
	if haveDefault {
		return def, nil
	}
	return nil, nil
}

// collect gathers the entries an iterate function yields.
func collect(iterate func(func(Entry) bool) error) ([]Entry, error) {
	var out []Entry
	err := iterate(func(e Entry) bool {
		out = append(out, e)
		return true
	})
	return out, err
}

// newCursor returns a little-endian reader of the list at section offset
// off, rejecting offsets outside the section; errors it records are
// dwarfbuf.DecodeErrors at section offsets.
func newCursor(name string, data []byte, off int64) (*dwarfbuf.Buf, error) {
	if off < 0 || off >= int64(len(data)) {
		return nil, fmt.Errorf("list offset %#x outside section of %d bytes: %w", off, len(data), ErrMalformed)
	}
	c := dwarfbuf.New(name, uint64(off), data[off:], binary.LittleEndian)
	return &c, nil
}

func checkPtrSize(ptrSize int) error {
	if ptrSize != 4 && ptrSize != 8 {
		return fmt.Errorf("%d bytes: %w", ptrSize, ErrBadAddrSize)
	}
	return nil
}
