package frame

import (
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
)

// Pointer encodings (DW_EH_PE_*) used by .eh_frame augmentations, as defined
// by the Linux Standard Base.
const (
	peAbsptr  = 0x00
	peULEB128 = 0x01
	peUData2  = 0x02
	peUData4  = 0x03
	peUData8  = 0x04
	peSLEB128 = 0x09
	peSData2  = 0x0a
	peSData4  = 0x0b
	peSData8  = 0x0c

	pePCRel    = 0x10
	peTextRel  = 0x20
	peDataRel  = 0x30
	peFuncRel  = 0x40
	peAligned  = 0x50
	peIndirect = 0x80
	peOmit     = 0xff
)

// CIE is a Common Information Entry: the parameters and initial rules shared
// by the FDEs that point at it.
type CIE struct {
	Offset       uint64 // section offset of the entry's length field
	Version      uint8  // 1, 3 or 4
	Augmentation string // "" for Go's .debug_frame, typically "zR" for .eh_frame
	CodeAlign    uint64 // code_alignment_factor: scales advance_loc deltas
	DataAlign    int64  // data_alignment_factor: scales offsets of *_offset rules
	RetAddrReg   uint64 // DWARF column holding the return address (16 on amd64)
	AddressSize  uint8  // size of target addresses in FDE headers
	SegmentSize  uint8  // size of segment selectors (version 4; always 0 in practice)
	FDEEncoding  uint8  // DW_EH_PE_* encoding of FDE addresses ('R'); 0 means absolute
	LSDAEncoding uint8  // DW_EH_PE_* encoding of the FDE's LSDA pointer ('L'), 0xff if absent
	SignalFrame  bool   // 'S': frames of this CIE are signal handler frames

	index        uint32 // position in Table.cieList
	hasAugData   bool   // 'z': FDEs carry a length-prefixed augmentation block
	initial      []byte // initial instructions
	initialStart uint64 // section offset of initial[0]
}

// FDE is a Frame Description Entry: the CFI rows for one address range.
type FDE struct {
	CIE    *CIE   // the CIE this FDE refers to
	Offset uint64 // section offset of the entry's length field

	begin, end uint64
	insns      []byte
	insnBase   uint64 // section offset of insns[0], for error positions
	table      *Table
}

// Begin returns the first static address the FDE covers.
func (f *FDE) Begin() uint64 { return f.begin }

// End returns the static address just past the FDE's range.
func (f *FDE) End() uint64 { return f.end }

// Contains reports whether the static address pc is in [Begin, End).
func (f *FDE) Contains(pc uint64) bool { return pc >= f.begin && pc < f.end }

// entryHeader is the part common to CIEs and FDEs.
type entryHeader struct {
	start      uint64 // offset of the length field
	next       uint64 // offset just past the entry
	idPos      uint64 // offset of the CIE id / CIE pointer field
	id         uint64 // the CIE id / CIE pointer value
	bodyStart  uint64 // offset just past the id field
	isCIE      bool
	padding    bool // zero-length .debug_frame entry, skipped
	terminator bool // zero-length .eh_frame entry: end of the section
}

// entryReader returns a reader over [from, to) of the section.
func (t *Table) entryReader(from, to uint64) *dwarfbuf.Buf {
	r := dwarfbuf.New(sectionName(t.ehFrame), from, t.data[from:to], t.order)
	return &r
}

// readEntryHeader decodes the length and id fields of the entry at off.
func (t *Table) readEntryHeader(off uint64) (entryHeader, error) {
	e := entryHeader{start: off}
	r := t.entryReader(off, uint64(len(t.data)))
	length := uint64(r.Uint32("entry length"))
	dwarf64 := false
	switch {
	case r.Err() != nil:
		return e, r.Err()
	case length == 0:
		e.next = off + 4
		e.terminator = t.ehFrame
		e.padding = !t.ehFrame
		return e, nil
	case length == 0xffffffff:
		dwarf64 = true
		length = r.Uint64("64-bit entry length")
		if r.Err() != nil {
			return e, r.Err()
		}
	case length >= 0xfffffff0:
		return e, &dwarfbuf.DecodeError{Name: r.Name(), Offset: off, Err: fmt.Errorf("%w: reserved length value %#x", ErrMalformed, length)}
	}
	if length > uint64(r.Len()) {
		return e, &dwarfbuf.DecodeError{Name: r.Name(), Offset: off, Err: fmt.Errorf("%w: entry length %#x exceeds the %d bytes left", ErrTruncated, length, r.Len())}
	}
	e.next = r.Off() + length
	e.idPos = r.Off()
	r = t.entryReader(e.idPos, e.next)
	if dwarf64 && !t.ehFrame {
		e.id = r.Uint64("CIE id")
		e.isCIE = e.id == ^uint64(0)
	} else {
		e.id = uint64(r.Uint32("CIE id"))
		e.isCIE = !t.ehFrame && e.id == 0xffffffff || t.ehFrame && e.id == 0
	}
	if r.Err() != nil {
		return e, r.Err()
	}
	e.bodyStart = r.Off()
	return e, nil
}

// cieAt returns the CIE at section offset off, decoding it on first use.
func (t *Table) cieAt(off uint64, referrer uint64) (*CIE, error) {
	if c, ok := t.cies[off]; ok {
		return c, nil
	}
	if off >= uint64(len(t.data)) {
		return nil, &dwarfbuf.DecodeError{Name: sectionName(t.ehFrame), Offset: referrer, Err: fmt.Errorf("%w: CIE pointer %#x is outside the section", ErrMalformed, off)}
	}
	e, err := t.readEntryHeader(off)
	if err != nil {
		return nil, err
	}
	if !e.isCIE || e.padding || e.terminator {
		return nil, &dwarfbuf.DecodeError{Name: sectionName(t.ehFrame), Offset: referrer, Err: fmt.Errorf("%w: CIE pointer %#x does not point at a CIE", ErrMalformed, off)}
	}
	c, err := t.parseCIE(e)
	if err != nil {
		return nil, err
	}
	c.index = uint32(len(t.cieList))
	t.cies[off] = c
	t.cieList = append(t.cieList, c)
	return c, nil
}

// parseCIE decodes the body of a CIE whose header is e.
func (t *Table) parseCIE(e entryHeader) (*CIE, error) {
	r := t.entryReader(e.bodyStart, e.next)
	c := &CIE{Offset: e.start, LSDAEncoding: peOmit, AddressSize: uint8(t.ptrSize)}
	c.Version = r.Uint8("CIE version")
	if r.Err() == nil && c.Version != 1 && c.Version != 3 && c.Version != 4 {
		return nil, &dwarfbuf.DecodeError{Name: r.Name(), Offset: e.bodyStart, Err: fmt.Errorf("%w: CIE version %d", ErrUnsupported, c.Version)}
	}
	c.Augmentation = r.CString("CIE augmentation")
	if c.Version >= 4 {
		c.AddressSize = r.Uint8("CIE address size")
		c.SegmentSize = r.Uint8("CIE segment size")
		if r.Err() == nil && !validSize(c.AddressSize) || c.SegmentSize > 8 {
			return nil, &dwarfbuf.DecodeError{Name: r.Name(), Offset: e.bodyStart, Err: fmt.Errorf("%w: address size %d, segment size %d", ErrMalformed, c.AddressSize, c.SegmentSize)}
		}
	}
	c.CodeAlign = r.ULEB128("code alignment factor")
	c.DataAlign = r.SLEB128("data alignment factor")
	if c.Version == 1 {
		c.RetAddrReg = uint64(r.Uint8("return address register"))
	} else {
		c.RetAddrReg = r.ULEB128("return address register")
	}
	if r.Err() != nil {
		return nil, r.Err()
	}
	if err := t.parseAugmentation(c, r); err != nil {
		return nil, err
	}
	c.initialStart = r.Off()
	c.initial = r.Rest()
	return c, nil
}

func validSize(n uint8) bool { return n == 1 || n == 2 || n == 4 || n == 8 }

// parseAugmentation interprets the augmentation string and data of c.
func (t *Table) parseAugmentation(c *CIE, r *dwarfbuf.Buf) error {
	aug := c.Augmentation
	switch {
	case aug == "":
		return nil
	case aug == "eh":
		// Pre-"z" GCC: a pointer-sized EH data word follows; FDEs are plain.
		r.Bytes(uint64(t.ptrSize), "eh augmentation data")
		return r.Err()
	case !strings.HasPrefix(aug, "z"):
		return &dwarfbuf.DecodeError{Name: r.Name(), Offset: c.Offset, Err: fmt.Errorf("%w: augmentation %q", ErrUnsupported, aug)}
	}
	c.hasAugData = true
	data := r.Block("CIE augmentation data")
	if r.Err() != nil {
		return r.Err()
	}
	ar := dwarfbuf.New(r.Name(), r.Off()-uint64(len(data)), data, t.order)
	for _, ch := range aug[1:] {
		switch ch {
		case 'R':
			c.FDEEncoding = ar.Uint8("FDE pointer encoding")
		case 'L':
			c.LSDAEncoding = ar.Uint8("LSDA pointer encoding")
		case 'P':
			enc := ar.Uint8("personality encoding")
			// The personality routine is not needed for unwinding; decode
			// it only to validate the encoding and step over it.
			t.readEncoded(&ar, enc, true, "personality pointer")
		case 'S':
			c.SignalFrame = true
		default:
			// Unknown letters ('B', 'G', vendor extensions): the 'z' length
			// already tells where the data ends, so the rest is skipped.
			return ar.Err()
		}
	}
	return ar.Err()
}

// readEncoded reads a DW_EH_PE_* encoded pointer. PC-relative values are
// resolved against the section's static address; indirect values are not
// dereferenced (the section bytes hold no memory), which is only acceptable
// where allowIndirect says the caller does not use the value.
func (t *Table) readEncoded(r *dwarfbuf.Buf, enc uint8, allowIndirect bool, what string) uint64 {
	if r.Err() != nil || enc == peOmit {
		return 0
	}
	at := r.Off()
	if enc&peIndirect != 0 && !allowIndirect {
		r.Fail(at, fmt.Errorf("%w: indirect pointer encoding %#x for %s", ErrUnsupported, enc, what))
		return 0
	}
	app := enc & 0x70
	if app == peAligned {
		if pad := int((t.sectionAddr + at) % uint64(t.ptrSize)); pad != 0 {
			r.Bytes(uint64(t.ptrSize-pad), what+" alignment")
		}
		at = r.Off()
	}
	fieldAddr := t.sectionAddr + at
	var v uint64
	switch enc & 0x0f {
	case peAbsptr:
		v = r.UintN(t.ptrSize, what)
	case peULEB128:
		v = r.ULEB128(what)
	case peUData2:
		v = uint64(r.Uint16(what))
	case peUData4:
		v = uint64(r.Uint32(what))
	case peUData8:
		v = r.Uint64(what)
	case peSLEB128:
		v = uint64(r.SLEB128(what))
	case peSData2:
		v = uint64(int64(int16(r.Uint16(what))))
	case peSData4:
		v = uint64(int64(int32(r.Uint32(what))))
	case peSData8:
		v = r.Uint64(what)
	default:
		r.Fail(at, fmt.Errorf("%w: pointer encoding %#x for %s", ErrMalformed, enc, what))
		return 0
	}
	switch app {
	case peAbsptr, peAligned:
	case pePCRel:
		v += fieldAddr
	case peTextRel, peDataRel, peFuncRel:
		if !allowIndirect {
			r.Fail(at, fmt.Errorf("%w: pointer application %#x for %s", ErrUnsupported, app, what))
			return 0
		}
	default:
		r.Fail(at, fmt.Errorf("%w: pointer encoding %#x for %s", ErrMalformed, enc, what))
		return 0
	}
	if t.ptrSize == 4 {
		v &= 0xffffffff
	}
	return v
}

// readFDEHeader decodes the address range of the FDE whose header is e and
// locates its instructions, without interpreting them.
func (t *Table) readFDEHeader(e entryHeader) (fdeRef, error) {
	var cieOff uint64
	if t.ehFrame {
		// .eh_frame stores the distance back from the pointer field itself.
		if e.id > e.idPos {
			return fdeRef{}, &dwarfbuf.DecodeError{Name: ".eh_frame", Offset: e.idPos, Err: fmt.Errorf("%w: CIE pointer %#x points before the section", ErrMalformed, e.id)}
		}
		cieOff = e.idPos - e.id
	} else {
		cieOff = e.id
	}
	cie, err := t.cieAt(cieOff, e.idPos)
	if err != nil {
		return fdeRef{}, err
	}
	r := t.entryReader(e.bodyStart, e.next)
	var begin, size uint64
	if t.ehFrame {
		begin = t.readEncoded(r, cie.FDEEncoding, false, "FDE initial location")
		size = t.readEncoded(r, cie.FDEEncoding&0x0f, false, "FDE address range")
	} else {
		r.Bytes(uint64(cie.SegmentSize), "FDE segment selector")
		begin = r.UintN(int(cie.AddressSize), "FDE initial location")
		size = r.UintN(int(cie.AddressSize), "FDE address range")
	}
	if cie.hasAugData {
		r.Block("FDE augmentation data") // holds the LSDA pointer; unused for unwinding
	}
	if r.Err() != nil {
		return fdeRef{}, r.Err()
	}
	end := begin + size
	if end < begin {
		return fdeRef{}, &dwarfbuf.DecodeError{Name: r.Name(), Offset: e.start, Err: fmt.Errorf("%w: FDE range %#x+%#x wraps around", ErrMalformed, begin, size)}
	}
	return fdeRef{
		begin:     begin,
		end:       end,
		off:       uint32(e.start),
		insnStart: uint32(r.Off()),
		insnEnd:   uint32(e.next),
		cie:       cie.index,
	}, nil
}
