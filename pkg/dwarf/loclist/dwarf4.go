package loclist

import "fmt"

// Dwarf4Reader reads lists from a DWARF 2–4 .debug_loc section (DWARF 4,
// section 2.6.2): pairs of addresses relative to the base address, base
// address selection entries, and a (0, 0) end marker.
type Dwarf4Reader struct {
	data    []byte
	ptrSize int
}

// NewDwarf4Reader returns a reader of the uncompressed .debug_loc data
// (elf.Section.Data decompresses) for addresses of ptrSize bytes.
func NewDwarf4Reader(data []byte, ptrSize int) *Dwarf4Reader {
	return &Dwarf4Reader{data: data, ptrSize: ptrSize}
}

// Find returns the expression covering run-time pc in the list at off, or
// (nil, nil).
func (r *Dwarf4Reader) Find(off int64, u Unit, pc uint64) ([]byte, error) {
	return find(func(fn func(Entry) bool) error { return r.iterate(off, u, fn) }, pc)
}

// Entries returns all entries of the list at off.
func (r *Dwarf4Reader) Entries(off int64, u Unit) ([]Entry, error) {
	return collect(func(fn func(Entry) bool) error { return r.iterate(off, u, fn) })
}

// iterate calls fn for each entry until fn returns false or the list ends.
func (r *Dwarf4Reader) iterate(off int64, u Unit, fn func(Entry) bool) error {
	if err := checkPtrSize(r.ptrSize); err != nil {
		return err
	}
	c, err := newCursor(".debug_loc", r.data, off)
	if err != nil {
		return err
	}
	// The all-ones start address marks a base address selection entry.
	selectBase := ^uint64(0) >> (64 - 8*uint(r.ptrSize))
	base := u.Base
	for n := 0; n < maxEntries; n++ {
		start := c.UintN(r.ptrSize, "start address")
		end := c.UintN(r.ptrSize, "end address")
		if c.Err() != nil {
			return fmt.Errorf(".debug_loc list %#x: %w", off, c.Err())
		}
		switch {
		case start == 0 && end == 0:
			return nil
		case start == selectBase:
			base = end
			continue
		}
		size := c.UintN(2, "expression length")
		instr := c.Bytes(size, "expression")
		if c.Err() != nil {
			return fmt.Errorf(".debug_loc list %#x: %w", off, c.Err())
		}
		e := Entry{LowPC: base + start + u.StaticBase, HighPC: base + end + u.StaticBase, Instr: instr}
		if !fn(e) {
			return nil
		}
	}
	return fmt.Errorf(".debug_loc list %#x has more than %d entries: %w", off, maxEntries, ErrMalformed)
}
