package loclist

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// builder assembles little-endian section bytes for the synthetic tests.
type builder struct{ b []byte }

func (w *builder) u8(v byte) *builder    { w.b = append(w.b, v); return w }
func (w *builder) u16(v uint16) *builder { w.b = binary.LittleEndian.AppendUint16(w.b, v); return w }
func (w *builder) u32(v uint32) *builder { w.b = binary.LittleEndian.AppendUint32(w.b, v); return w }
func (w *builder) u64(v uint64) *builder { w.b = binary.LittleEndian.AppendUint64(w.b, v); return w }
func (w *builder) raw(v ...byte) *builder {
	w.b = append(w.b, v...)
	return w
}
func (w *builder) uleb(v uint64) *builder {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return w.u8(c)
		}
		w.u8(c | 0x80)
	}
}

var (
	exprRAX = []byte{0x50}       // DW_OP_reg0
	exprRBX = []byte{0x53}       // DW_OP_reg3
	exprCFA = []byte{0x9c}       // DW_OP_call_frame_cfa
	exprFB8 = []byte{0x91, 0x08} // DW_OP_fbreg +8
)

func TestDwarf4(t *testing.T) {
	w := &builder{}
	w.u64(0)                                 // padding so the list is not at 0
	w.u64(0x10).u64(0x20).u16(1).raw(0x50)   // [base+0x10, base+0x20) rax
	w.u64(^uint64(0)).u64(0x50_0000)         // base := 0x500000
	w.u64(0x4).u64(0x8).u16(2).raw(0x91, 8)  // [0x500004, 0x500008) fbreg 8
	w.u64(0x8).u64(0x8).u16(1).raw(0x53)     // empty range
	w.u64(0).u64(0)                          // end
	w.u64(0x100).u64(0x200).u16(1).raw(0x9c) // next list, never reached
	r := NewDwarf4Reader(w.b, 8)
	u := Unit{Base: 0x40_0000, StaticBase: 0x1000_0000}
	got, err := r.Entries(8, u)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{LowPC: 0x1040_0010, HighPC: 0x1040_0020, Instr: exprRAX},
		{LowPC: 0x1050_0004, HighPC: 0x1050_0008, Instr: exprFB8},
		{LowPC: 0x1050_0008, HighPC: 0x1050_0008, Instr: exprRBX},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Entries = %+v\nwant %+v", got, want)
	}
	for _, c := range []struct {
		pc   uint64
		want []byte
	}{
		{0x1040_0010, exprRAX}, {0x1040_001f, exprRAX}, {0x1040_0020, nil},
		{0x1050_0007, exprFB8}, {0x1050_0008, nil}, {0x40_0010, nil},
	} {
		e, err := r.Find(8, u, c.pc)
		if err != nil || !reflect.DeepEqual(e, c.want) {
			t.Errorf("Find(pc %#x) = % x, %v; want % x", c.pc, e, err, c.want)
		}
	}
}

func TestDwarf4PtrSize4(t *testing.T) {
	w := (&builder{}).u32(0xffffffff).u32(0x1000).u32(0).u32(4).u16(1).raw(0x50).u32(0).u32(0)
	e, err := NewDwarf4Reader(w.b, 4).Find(0, Unit{}, 0x1002)
	if err != nil || !reflect.DeepEqual(e, exprRAX) {
		t.Fatalf("Find = % x, %v", e, err)
	}
}

func TestDwarf5(t *testing.T) {
	// .debug_addr: an 8-byte header, then this CU's addresses.
	addr := (&builder{}).u32(4 + 8*3).u16(5).u8(8).u8(0).u64(0x40_1000).u64(0x40_2000).u64(0x40_3000)
	u := Unit{Base: 0x40_0000, AddrBase: 8, StaticBase: 0x7000_0000_0000}
	w := &builder{}
	w.u32(0).u16(5).u8(8).u8(0).u32(0) // header, patched below
	listOff := len(w.b)
	w.u8(lleBaseAddressx).uleb(0)                                     // base = 0x401000
	w.u8(lleOffsetPair).uleb(0).uleb(0x10).uleb(1).raw(0x50)          // [0x401000,0x401010) rax
	w.u8(lleStartxEndx).uleb(1).uleb(2).uleb(1).raw(0x53)             // [0x402000,0x403000) rbx
	w.u8(lleStartxLength).uleb(2).uleb(0x20).uleb(1).raw(0x9c)        // [0x403000,0x403020) cfa
	w.u8(lleBaseAddress).u64(0x50_0000)                               // base = 0x500000
	w.u8(lleOffsetPair).uleb(4).uleb(8).uleb(2).raw(0x91, 8)          // [0x500004,0x500008)
	w.u8(lleStartEnd).u64(0x60_0000).u64(0x60_0010).uleb(1).raw(0x50) // [0x600000,0x600010)
	w.u8(lleStartLength).u64(0x60_0100).uleb(0x10).uleb(1).raw(0x53)  // [0x600100,0x600110)
	w.u8(lleGNUViewPair).uleb(1).uleb(2)                              // ignored
	w.u8(lleDefaultLocation).uleb(2).raw(0x91, 8)                     // default
	w.u8(lleEndOfList)
	binary.LittleEndian.PutUint32(w.b, uint32(len(w.b)-4))
	r := NewDwarf5Reader(w.b, addr.b, 8)
	got, err := r.Entries(int64(listOff), u)
	if err != nil {
		t.Fatal(err)
	}
	sb := u.StaticBase
	want := []Entry{
		{LowPC: sb + 0x40_1000, HighPC: sb + 0x40_1010, Instr: exprRAX},
		{LowPC: sb + 0x40_2000, HighPC: sb + 0x40_3000, Instr: exprRBX},
		{LowPC: sb + 0x40_3000, HighPC: sb + 0x40_3020, Instr: exprCFA},
		{LowPC: sb + 0x50_0004, HighPC: sb + 0x50_0008, Instr: exprFB8},
		{LowPC: sb + 0x60_0000, HighPC: sb + 0x60_0010, Instr: exprRAX},
		{LowPC: sb + 0x60_0100, HighPC: sb + 0x60_0110, Instr: exprRBX},
		{Default: true, Instr: exprFB8},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Entries = %+v\nwant %+v", got, want)
	}
	for _, c := range []struct {
		pc   uint64
		want []byte
	}{
		{sb + 0x40_100f, exprRAX}, {sb + 0x40_2fff, exprRBX}, {sb + 0x40_3000, exprCFA},
		{sb + 0x60_0105, exprRBX}, {sb + 0x90_0000, exprFB8}, // default
	} {
		e, err := r.Find(int64(listOff), u, c.pc)
		if err != nil || !reflect.DeepEqual(e, c.want) {
			t.Errorf("Find(pc %#x) = % x, %v; want % x", c.pc, e, err, c.want)
		}
	}
}

func TestDwarf5Loclistx(t *testing.T) {
	w := &builder{}
	w.u32(0).u16(5).u8(8).u8(0).u32(2) // header with two offsets
	base := uint64(len(w.b))
	w.u32(8).u32(8 + 6)                                                    // offsets relative to base
	w.u8(lleOffsetPair).uleb(0).uleb(4).uleb(1).raw(0x50).u8(lleEndOfList) // list 0 at base+8
	w.u8(lleOffsetPair).uleb(0).uleb(4).uleb(1).raw(0x53).u8(lleEndOfList) // list 1 at base+14
	binary.LittleEndian.PutUint32(w.b, uint32(len(w.b)-4))
	r := NewDwarf5Reader(w.b, nil, 8)
	off, err := r.OffsetOfIndex(base, 1)
	if err != nil || off != int64(base+14) {
		t.Fatalf("OffsetOfIndex(1) = %d, %v; want %d", off, err, base+14)
	}
	e, err := r.Find(off, Unit{Base: 0x2000}, 0x2002)
	if err != nil || !reflect.DeepEqual(e, exprRBX) {
		t.Fatalf("Find via loclistx = % x, %v", e, err)
	}
	if _, err := r.OffsetOfIndex(base, 2); !errors.Is(err, ErrMalformed) {
		t.Fatalf("index past the table: err = %v, want ErrMalformed", err)
	}
	if _, err := r.OffsetOfIndex(base+4, 0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("base not after a header: err = %v, want ErrMalformed", err)
	}
}

func TestMalformed(t *testing.T) {
	addr := (&builder{}).u64(0x1000).b
	cases := []struct {
		name string
		r    Reader
		off  int64
		want error
	}{
		{"v4 offset outside", NewDwarf4Reader(make([]byte, 16), 8), 16, ErrMalformed},
		{"v4 negative offset", NewDwarf4Reader(make([]byte, 16), 8), -1, ErrMalformed},
		{"v4 no end", NewDwarf4Reader((&builder{}).u64(1).u64(2).u16(1).raw(0x50).b, 8), 0, ErrTruncated},
		{"v4 long expression", NewDwarf4Reader((&builder{}).u64(1).u64(2).u16(100).raw(0x50).b, 8), 0, ErrTruncated},
		{"v4 bad ptr size", NewDwarf4Reader(make([]byte, 16), 3), 0, ErrBadAddrSize},
		{"v5 unknown kind", NewDwarf5Reader([]byte{0x42}, nil, 8), 0, ErrMalformed},
		{"v5 no end", NewDwarf5Reader((&builder{}).u8(lleOffsetPair).uleb(0).uleb(1).uleb(1).raw(0x50).b, nil, 8), 0, ErrTruncated},
		{"v5 truncated uleb", NewDwarf5Reader([]byte{lleOffsetPair, 0x80}, nil, 8), 0, ErrTruncated},
		{"v5 addr index outside", NewDwarf5Reader((&builder{}).u8(lleBaseAddressx).uleb(1).u8(0).b, addr, 8), 0, ErrMalformed},
		{"v5 huge addr index", NewDwarf5Reader((&builder{}).u8(lleStartxEndx).uleb(1<<62).uleb(0).uleb(0).u8(0).b, addr, 8), 0, ErrMalformed},
		{"v5 huge expression", NewDwarf5Reader((&builder{}).u8(lleDefaultLocation).uleb(1<<62).b, nil, 8), 0, ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.r.Entries(c.off, Unit{}); !errors.Is(err, c.want) {
				t.Fatalf("Entries err = %v, want %v", err, c.want)
			}
			if _, err := c.r.Find(c.off, Unit{}, 0xdead); !errors.Is(err, c.want) {
				t.Fatalf("Find err = %v, want %v", err, c.want)
			}
		})
	}
}

// FuzzReaders checks that arbitrary section bytes never panic the readers.
func FuzzReaders(f *testing.F) {
	f.Add([]byte{lleBaseAddressx, 0, lleOffsetPair, 0, 0x10, 1, 0x50, 0}, int64(0))
	f.Add((&builder{}).u64(0x10).u64(0x20).u16(1).raw(0x50).u64(0).u64(0).b, int64(0))
	addr := (&builder{}).u64(0x1000).u64(0x2000).b
	f.Fuzz(func(t *testing.T, data []byte, off int64) {
		u := Unit{Base: 0x400000, AddrBase: 0}
		_, _ = NewDwarf5Reader(data, addr, 8).Entries(off, u)
		_, _ = NewDwarf5Reader(data, addr, 8).OffsetOfIndex(uint64(off), 0)
		_, _ = NewDwarf4Reader(data, 8).Find(off, u, 0x400010)
	})
}
