package dwarfbuf

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func TestLEB128Values(t *testing.T) {
	// Encodings from DWARF 5, section 7.6 (figures 22 and 23), plus the
	// 64-bit extremes and a padded form.
	ucases := []struct {
		b []byte
		v uint64
	}{
		{[]byte{0x02}, 2},
		{[]byte{0x7f}, 127},
		{[]byte{0x80, 0x01}, 128},
		{[]byte{0x81, 0x01}, 129},
		{[]byte{0x82, 0x01}, 130},
		{[]byte{0xb9, 0x64}, 12857},
		{[]byte{0x80, 0x80, 0x00}, 0},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, math.MaxUint64},
	}
	for _, c := range ucases {
		v, n, err := ULEB128(append(c.b, 0xaa)) // a following byte is not consumed
		if v != c.v || n != len(c.b) || err != nil {
			t.Errorf("ULEB128(% x) = %d, %d, %v; want %d, %d", c.b, v, n, err, c.v, len(c.b))
		}
	}
	scases := []struct {
		b []byte
		v int64
	}{
		{[]byte{0x02}, 2},
		{[]byte{0x7e}, -2},
		{[]byte{0xff, 0x00}, 127},
		{[]byte{0x81, 0x7f}, -127},
		{[]byte{0x80, 0x01}, 128},
		{[]byte{0x80, 0x7f}, -128},
		{[]byte{0x81, 0x01}, 129},
		{[]byte{0xff, 0x7e}, -129},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}, math.MinInt64},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, math.MaxInt64},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, -1},
	}
	for _, c := range scases {
		v, n, err := SLEB128(append(c.b, 0xaa))
		if v != c.v || n != len(c.b) || err != nil {
			t.Errorf("SLEB128(% x) = %d, %d, %v; want %d, %d", c.b, v, n, err, c.v, len(c.b))
		}
	}
}

func TestLEB128Errors(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"unterminated", []byte{0x80, 0x80}, ErrTruncated},
		{"bit 64 set", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02}, ErrMalformed},
		{"eleventh byte", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x01}, ErrMalformed},
	} {
		if v, n, err := ULEB128(c.b); !errors.Is(err, c.want) || v != 0 || n != 0 {
			t.Errorf("ULEB128 %s: %d, %d, %v; want 0, 0, %v", c.name, v, n, err, c.want)
		}
	}
	if _, _, err := SLEB128([]byte{0xff}); !errors.Is(err, ErrTruncated) {
		t.Errorf("unterminated SLEB128: %v, want ErrTruncated", err)
	}
	if _, _, err := SLEB128([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02}); !errors.Is(err, ErrMalformed) {
		t.Errorf("SLEB128 past 64 bits: %v, want ErrMalformed", err)
	}
}

func TestBufReadsFields(t *testing.T) {
	data := []byte{
		0x2a,       // u8
		0x34, 0x12, // u16
		0x78, 0x56, 0x34, 0x12, // u32
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // u64
		0xe5, 0x8e, 0x26, // ULEB128 624485
		0xc0, 0xbb, 0x78, // SLEB128 -123456
		0x02, 0xde, 0xad, // block of 2
		'g', 'o', 0, // cstring
		0xff, 0xee, // uintN(2)
	}
	b := New(".debug_test", 0x100, data, binary.LittleEndian)
	u8 := b.Uint8("a")
	u16 := b.Uint16("b")
	u32 := b.Uint32("c")
	u64 := b.Uint64("d")
	ul := b.ULEB128("e")
	sl := b.SLEB128("f")
	blk := b.Block("g")
	s := b.CString("h")
	un := b.UintN(2, "i")
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if u8 != 0x2a || u16 != 0x1234 || u32 != 0x12345678 || u64 != 0x0102030405060708 ||
		ul != 624485 || sl != -123456 || string(blk) != "\xde\xad" || s != "go" || un != 0xeeff {
		t.Fatalf("read %#x %#x %#x %#x %d %d % x %q %#x", u8, u16, u32, u64, ul, sl, blk, s, un)
	}
	if b.Len() != 0 || b.Off() != 0x100+uint64(len(data)) {
		t.Fatalf("Len %d Off %#x after reading everything", b.Len(), b.Off())
	}
	be := New("x", 0, []byte{0x12, 0x34}, binary.BigEndian)
	if v := be.Uint16("v"); v != 0x1234 {
		t.Fatalf("big-endian Uint16 = %#x", v)
	}
}

// TestBufTruncated checks that each kind of read, run out of data, records a
// DecodeError at the section offset of the field it could not read, and
// that the error sticks.
func TestBufTruncated(t *testing.T) {
	const base = 0x40
	for _, c := range []struct {
		name string
		data []byte
		read func(b *Buf)
		at   uint64
		want error
	}{
		{"u16", []byte{1, 2, 3}, func(b *Buf) { b.Uint8("x"); b.Uint16("y"); b.Uint16("z") }, base + 3, ErrTruncated},
		{"u32", []byte{1, 2, 3}, func(b *Buf) { b.Uint32("x") }, base, ErrTruncated},
		{"u64", []byte{1, 2, 3, 4, 5, 6, 7, 8}, func(b *Buf) { b.Uint8("x"); b.Uint64("y") }, base + 1, ErrTruncated},
		{"uleb", []byte{0x05, 0x80, 0x80}, func(b *Buf) { b.ULEB128("x"); b.ULEB128("y") }, base + 1, ErrTruncated},
		{"sleb", []byte{0xff}, func(b *Buf) { b.SLEB128("x") }, base, ErrTruncated},
		{"uleb overflow", []byte{7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, func(b *Buf) { b.Uint8("x"); b.ULEB128("y") }, base + 1, ErrMalformed},
		{"block length", []byte{0x80}, func(b *Buf) { b.Block("x") }, base, ErrTruncated},
		{"block bytes", []byte{0x03, 1, 2}, func(b *Buf) { b.Block("x") }, base + 1, ErrTruncated},
		{"huge block", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1}, func(b *Buf) { b.Block("x") }, base + 9, ErrTruncated},
		{"cstring", []byte{'a', 'b'}, func(b *Buf) { b.CString("x") }, base, ErrTruncated},
		{"uintN size", []byte{1, 2, 3}, func(b *Buf) { b.UintN(3, "x") }, base, ErrMalformed},
		{"sticky", []byte{1}, func(b *Buf) { b.Uint16("x"); b.Fail(base+9, errors.New("later")); b.Uint8("y") }, base, ErrTruncated},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := New(".debug_test", base, c.data, binary.LittleEndian)
			c.read(&b)
			var de *DecodeError
			if !errors.As(b.Err(), &de) || !errors.Is(b.Err(), c.want) || de.Offset != c.at || de.Name != ".debug_test" {
				t.Fatalf("err = %v, want %v at offset %#x of .debug_test", b.Err(), c.want, c.at)
			}
			if v := b.Uint8("after"); v != 0 {
				t.Fatalf("read %d after a failure", v)
			}
			if b.Bytes(0, "after") != nil || b.ULEB128("after") != 0 || b.CString("after") != "" {
				t.Fatal("reads after a failure return data")
			}
		})
	}
}

func TestDecodeErrorText(t *testing.T) {
	b := New(".debug_frame", 0x20, []byte{1}, binary.LittleEndian)
	b.Uint8("version")
	b.Uint32("length")
	const want = ".debug_frame at offset 0x21: truncated DWARF data: length needs 4 bytes, 0 left"
	if b.Err() == nil || b.Err().Error() != want {
		t.Fatalf("error %q, want %q", b.Err(), want)
	}
}

func TestUint(t *testing.T) {
	p := []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}
	for _, c := range []struct {
		n      int
		le, be uint64
	}{
		{0, 0, 0},
		{1, 0x01, 0x01},
		{2, 0x0201, 0x0102},
		{3, 0x030201, 0x010203},
		{4, 0x04030201, 0x01020304},
		{5, 0x0504030201, 0x0102030405},
		{7, 0x07060504030201, 0x01020304050607},
		{8, 0x0807060504030201, 0x0102030405060708},
	} {
		if le, be := Uint(p[:c.n], binary.LittleEndian), Uint(p[:c.n], binary.BigEndian); le != c.le || be != c.be {
			t.Errorf("Uint of %d bytes = %#x (LE), %#x (BE); want %#x, %#x", c.n, le, be, c.le, c.be)
		}
	}
}

// TestAppendSLEB128RoundTrips: what AppendSLEB128 writes, SLEB128 reads
// back, across the one- and multi-byte boundaries of both signs.
func TestAppendSLEB128RoundTrips(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, 64, -64, -65, 8, 24, 127, 128, -128, 1 << 40, -(1 << 40), 1<<63 - 1, -1 << 63} {
		b := AppendSLEB128(nil, v)
		got, n, err := SLEB128(b)
		if err != nil || got != v || n != len(b) {
			t.Errorf("%d: wrote % x, read %d (%d bytes, %v)", v, b, got, n, err)
		}
	}
}
