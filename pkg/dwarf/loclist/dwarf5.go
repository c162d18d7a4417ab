package loclist

import (
	"encoding/binary"
	"fmt"
)

// DWARF 5 location list entry kinds (DWARF 5, section 7.7.3), plus the GNU
// view pair that gcc may emit.
const (
	lleEndOfList       = 0x00
	lleBaseAddressx    = 0x01
	lleStartxEndx      = 0x02
	lleStartxLength    = 0x03
	lleOffsetPair      = 0x04
	lleDefaultLocation = 0x05
	lleBaseAddress     = 0x06
	lleStartEnd        = 0x07
	lleStartLength     = 0x08
	lleGNUViewPair     = 0x09
)

// Dwarf5Reader reads lists from a DWARF 5 .debug_loclists section, resolving
// address indexes through .debug_addr.
type Dwarf5Reader struct {
	data      []byte
	debugAddr []byte
	ptrSize   int
}

// NewDwarf5Reader returns a reader of the uncompressed .debug_loclists and
// .debug_addr data for addresses of ptrSize bytes.
func NewDwarf5Reader(data, debugAddr []byte, ptrSize int) *Dwarf5Reader {
	return &Dwarf5Reader{data: data, debugAddr: debugAddr, ptrSize: ptrSize}
}

// Find returns the expression covering run-time pc in the list at section
// offset off, falling back to the list's default location, or (nil, nil).
func (r *Dwarf5Reader) Find(off int64, u Unit, pc uint64) ([]byte, error) {
	return find(func(fn func(Entry) bool) error { return r.iterate(off, u, fn) }, pc)
}

// Entries returns all entries of the list at off.
func (r *Dwarf5Reader) Entries(off int64, u Unit) ([]Entry, error) {
	return collect(func(fn func(Entry) bool) error { return r.iterate(off, u, fn) })
}

// OffsetOfIndex turns a DW_FORM_loclistx index into a section offset for
// Find: loclistsBase is the CU's DW_AT_loclists_base, which points just past
// a list table header at its offset array. (Go emits DW_FORM_sec_offset and
// needs no index; gcc with -gsplit-dwarf emits loclistx.)
func (r *Dwarf5Reader) OffsetOfIndex(loclistsBase, index uint64) (int64, error) {
	offSize, count, err := r.tableAt(loclistsBase)
	if err != nil {
		return 0, err
	}
	if index >= count {
		return 0, fmt.Errorf("loclistx %d: table at %#x has %d offsets: %w", index, loclistsBase, count, ErrMalformed)
	}
	c, err := newCursor(".debug_loclists", r.data, int64(loclistsBase+index*uint64(offSize)))
	if err != nil {
		return 0, err
	}
	rel := c.UintN(offSize, "offset entry")
	if c.Err() != nil {
		return 0, c.Err()
	}
	return int64(loclistsBase + rel), nil
}

// tableAt finds the list table header whose offset array starts at base
// and returns the width of its offsets (4 or 8) and their count.
func (r *Dwarf5Reader) tableAt(base uint64) (int, uint64, error) {
	for pos := uint64(0); pos < uint64(len(r.data)); {
		c, err := newCursor(".debug_loclists", r.data, int64(pos))
		if err != nil {
			return 0, 0, err
		}
		length, offSize, hdr := c.UintN(4, "unit length"), 4, uint64(12)
		if length == 0xffffffff {
			length, offSize, hdr = c.UintN(8, "unit length"), 8, 20
		}
		c.UintN(2, "version")
		c.UintN(1, "address size")
		c.UintN(1, "segment selector size")
		count := c.UintN(4, "offset entry count")
		if c.Err() != nil {
			return 0, 0, c.Err()
		}
		if pos+hdr == base {
			if count*uint64(offSize) > uint64(len(r.data))-base {
				return 0, 0, fmt.Errorf("offset array at %#x: %w", base, ErrTruncated)
			}
			return offSize, count, nil
		}
		// unit_length counts the bytes after the length field itself, which
		// is 4 bytes (DWARF32) or 12 (DWARF64 escape plus 8).
		next := pos + hdr - 8 + length
		if next <= pos || next < length {
			break
		}
		pos = next
	}
	return 0, 0, fmt.Errorf("no location list table has its offsets at %#x: %w", base, ErrMalformed)
}

// addr reads entry index of the CU's slice of .debug_addr.
func (r *Dwarf5Reader) addr(u Unit, index uint64) (uint64, error) {
	off := u.AddrBase + index*uint64(r.ptrSize)
	if index > uint64(len(r.debugAddr)) || off+uint64(r.ptrSize) > uint64(len(r.debugAddr)) || off < u.AddrBase {
		return 0, fmt.Errorf(".debug_addr index %d (base %#x) outside section of %d bytes: %w", index, u.AddrBase, len(r.debugAddr), ErrMalformed)
	}
	b := r.debugAddr[off : off+uint64(r.ptrSize)]
	if r.ptrSize == 4 {
		return uint64(binary.LittleEndian.Uint32(b)), nil
	}
	return binary.LittleEndian.Uint64(b), nil
}

// iterate calls fn for each entry until fn returns false or the list ends.
func (r *Dwarf5Reader) iterate(off int64, u Unit, fn func(Entry) bool) error {
	if err := checkPtrSize(r.ptrSize); err != nil {
		return err
	}
	c, err := newCursor(".debug_loclists", r.data, off)
	if err != nil {
		return err
	}
	base := u.Base
	wrap := func(err error) error { return fmt.Errorf(".debug_loclists list %#x: %w", off, err) }
	for n := 0; n < maxEntries; n++ {
		kindPos := c.Off()
		kind := c.UintN(1, "entry kind")
		var start, end uint64
		isRange := true
		var aerr error
		switch kind {
		case lleEndOfList:
			return wrapIf(c.Err(), wrap)
		case lleBaseAddressx:
			base, aerr = r.addr(u, c.ULEB128("base address index"))
			isRange = false
		case lleBaseAddress:
			base = c.UintN(r.ptrSize, "base address")
			isRange = false
		case lleStartxEndx:
			si, ei := c.ULEB128("start index"), c.ULEB128("end index")
			if c.Err() == nil {
				if start, aerr = r.addr(u, si); aerr == nil {
					end, aerr = r.addr(u, ei)
				}
			}
		case lleStartxLength:
			si, length := c.ULEB128("start index"), c.ULEB128("length")
			if c.Err() == nil {
				start, aerr = r.addr(u, si)
				end = start + length
			}
		case lleOffsetPair:
			start = base + c.ULEB128("start offset")
			end = base + c.ULEB128("end offset")
		case lleDefaultLocation:
			isRange = false
		case lleStartEnd:
			start = c.UintN(r.ptrSize, "start address")
			end = c.UintN(r.ptrSize, "end address")
		case lleStartLength:
			start = c.UintN(r.ptrSize, "start address")
			end = start + c.ULEB128("length")
		case lleGNUViewPair:
			// Location views refine ordering within one PC; a debugger
			// stopped at a PC ignores them.
			c.ULEB128("view")
			c.ULEB128("view")
			isRange = false
		default:
			if c.Err() == nil {
				return wrap(fmt.Errorf("unknown entry kind %#x at offset %#x: %w", kind, kindPos, ErrMalformed))
			}
		}
		if c.Err() != nil {
			return wrap(c.Err())
		}
		if aerr != nil {
			return wrap(aerr)
		}
		if !isRange && kind != lleDefaultLocation {
			continue
		}
		instr := c.Bytes(c.ULEB128("expression length"), "expression")
		if c.Err() != nil {
			return wrap(c.Err())
		}
		e := Entry{Default: true, Instr: instr}
		if isRange {
			e = Entry{LowPC: start + u.StaticBase, HighPC: end + u.StaticBase, Instr: instr}
		}
		if !fn(e) {
			return nil
		}
	}
	return wrap(fmt.Errorf("more than %d entries: %w", maxEntries, ErrMalformed))
}

func wrapIf(err error, wrap func(error) error) error {
	if err == nil {
		return nil
	}
	return wrap(err)
}
