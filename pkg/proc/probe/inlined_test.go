package probe

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// TestDecodeExits applies the exit rules to hand-assembled code: a copy
// in three ranges with a conditional jump out, a loop back to its entry, a
// fall-through out of a range, a RET inside and a jump out of the last.
func TestDecodeExits(t *testing.T) {
	code := []byte{
		0x90,             // 0x1000 NOP (outside)
		0x48, 0x01, 0xc8, // 0x1001 ADDQ CX, AX: the entry
		0x74, 0x05, // 0x1004 JE 0x100b: out
		0x75, 0xf9, // 0x1006 JNE 0x1001: back to the entry
		0x90,       // 0x1008 NOP, falls through out of the range to 0x1009
		0x90, 0x90, // 0x1009, 0x100a outside
		0x90,                         // 0x100b outside
		0xc3,                         // 0x100c RET inside
		0xe9, 0xee, 0xff, 0xff, 0xff, // 0x100d JMP 0x1000: out, no fall-through
		0x90, // 0x1012 outside
	}
	ranges := [][2]uint64{{0x100c, 0x100d}, {0x1001, 0x1009}, {0x100d, 0x1012}}
	entry, exits, loop := decodeExits(decodeAll(code, 0x1000), 0x1000, 0x1013, ranges)
	if entry != 0x1001 || !loop || !reflect.DeepEqual(exits, []uint64{0x1000, 0x1009, 0x100b, 0x100c}) {
		t.Fatalf("entry %#x, exits %#x, loop %v", entry, exits, loop)
	}
}

// TestFromDWARF: the locations a probe can capture, and why the others
// are refused.
func TestFromDWARF(t *testing.T) {
	reg := func(n uint64, size int) op.Piece { return op.Piece{Kind: op.RegisterPiece, Reg: n, Size: size} }
	cases := []struct {
		loc  op.Location
		size int64
		want string
		err  string
	}{
		{loc: op.Location{IsAddr: true, Addr: cfaMark - 48}, size: 8, want: "stack+-48"},
		{loc: op.Location{Pieces: []op.Piece{reg(5, 0)}}, size: 8, want: "RDI"},
		{loc: op.Location{Pieces: []op.Piece{reg(1, 8), reg(12, 8)}}, size: 16, want: "RDX+R12"},
		{loc: op.Location{Pieces: []op.Piece{reg(17, 0)}}, size: 8, want: "X0"},
		{loc: op.Location{Pieces: []op.Piece{{Kind: op.MemoryPiece, Addr: cfaMark + 8, Size: 8}, {Kind: op.MemoryPiece, Addr: cfaMark + 16, Size: 8}}}, size: 16, want: "stack+8"},
		{loc: op.Location{Pieces: []op.Piece{reg(0, 8), {Kind: op.UndefinedPiece, Size: 8}}}, size: 16, err: "optimized out"},
		{loc: op.Location{Pieces: []op.Piece{reg(0, 8)}}, size: 16, err: "optimized out"},
		{loc: op.Location{Pieces: []op.Piece{reg(0, 8), {Kind: op.MemoryPiece, Addr: cfaMark + 16, Size: 8}}}, size: 16, want: "RAX+stack+16"},
		{loc: op.Location{Pieces: []op.Piece{{Kind: op.MemoryPiece, Addr: cfaMark - 8, Size: 8}, reg(2, 8), {Kind: op.MemoryPiece, Addr: cfaMark + 32, Size: 8}}}, size: 24, want: "stack+-8+RCX+stack+32"},
		{loc: op.Location{Pieces: []op.Piece{{Kind: op.MemoryPiece, Addr: cfaMark + 8, Size: 8}, {Kind: op.MemoryPiece, Addr: cfaMark + 24, Size: 8}}}, size: 16, want: "stack+8+stack+24"},
		{loc: op.Location{Pieces: []op.Piece{reg(0, 8), {Kind: op.MemoryPiece, Addr: 0x4000, Size: 8}}}, size: 16, err: "location not capturable: a piece is not on the stack"},
		{loc: op.Location{Pieces: []op.Piece{{Kind: op.ValuePiece, Value: 4}}}, size: 8, err: "location not capturable: a computed value"},
		{loc: op.Location{Pieces: []op.Piece{reg(7, 0)}}, size: 8, want: "RSP"},
		{loc: op.Location{Pieces: []op.Piece{reg(3, 0)}}, size: 16, err: "location not capturable: 16 bytes in one register"},
		{loc: op.Location{Pieces: []op.Piece{{Kind: op.RegisterPiece, Reg: 0, Size: 4, Offset: 4}, reg(2, 4)}}, size: 8, err: "location not capturable: part of a register"},
		{loc: op.Location{Pieces: []op.Piece{reg(16, 0)}}, size: 8, err: "location not capturable: in register rip"},
		{loc: op.Location{IsAddr: true, Addr: 0x4000}, size: 8, err: "location not capturable: not on the stack"},
	}
	for i, c := range cases {
		got, err := fromDWARF(c.loc, c.size)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("case %d: %v, %v; want error %q", i, got, err, c.err)
		case c.err == "" && (err != nil || got.String() != c.want):
			t.Errorf("case %d: %v, %v; want %s", i, got, err, c.want)
		}
	}
}

// TestFindInlined: in the optimized fixture main.add has five inlined
// copies in main.main, each entered at its lowest address and left at
// addresses outside its ranges, with the caller's frame size as CFA-SP;
// no argument has a location where the -N -l build has none.
func TestFindInlined(t *testing.T) {
	for _, fl := range []fixture.Flavour{{Optimized: true}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			bi, types := open(t, "inlinesites", fl)
			insts, err := bi.InlinedInstances("main.add")
			if err != nil || len(insts) != 5 {
				t.Fatalf("%d copies, %v", len(insts), err)
			}
			frames, err := LoadFrames(bi)
			if err != nil {
				t.Fatal(err)
			}
			located := 0
			for _, inst := range insts {
				in, err := FindInlined(bi, types, frames, inst)
				if err != nil {
					t.Fatal(err)
				}
				if inst.Caller.Name != "main.main" || in.Depth != 1 || len(in.Exits) == 0 || len(in.Args) != 2 {
					t.Fatalf("%+v", in)
				}
				for _, r := range inst.Ranges {
					if r[0] < in.Entry {
						t.Errorf("entry %#x above range %#x", in.Entry, r)
					}
					for _, x := range in.Exits {
						if x >= r[0] && x < r[1] {
							t.Errorf("exit %#x inside range %#x", x, r)
						}
					}
				}
				// main.main has a frame: past its prologue the CFA is
				// above the return address, BP and the locals.
				for pc, off := range in.FrameOff {
					if off <= 16 || off != in.FrameOff[in.Entry] {
						t.Errorf("CFA-SP %d at %#x, %d at the entry", off, pc, in.FrameOff[in.Entry])
					}
				}
				for i := range in.Args {
					if in.ArgErr[i] == "" {
						located++
					}
				}
			}
			if located == 0 {
				t.Errorf("no argument located")
			}
		})
	}
}

// fakeStack is memory holding words at fixed addresses.
type fakeStack map[uint64][8]byte

func (m fakeStack) ReadMemory(buf []byte, addr uint64) (int, error) {
	w, ok := m[addr]
	if !ok || len(buf) > 8 {
		return 0, fmt.Errorf("no word at %#x", addr)
	}
	return copy(buf, w[:]), nil
}

// TestAssembleFromStackPieces: a value in RAX and a stack slot is put
// together from both, the slot read at the CFA plus its offset; without
// memory it is refused, never half filled.
func TestAssembleFromStackPieces(t *testing.T) {
	loc := Location{InRegs: true, Pieces: []Piece{{Reg: 0, Size: 8}, {Stack: true, Off: 8, Size: 8, StackOff: -96}}}
	regs := &arch.Registers{Rax: 0x1122}
	mem := fakeStack{0x1000 - 96: {5}}
	b, err := loc.AssembleFrom(regs, nil, mem, 0x1000, 16)
	if err != nil || binary.LittleEndian.Uint64(b) != 0x1122 || binary.LittleEndian.Uint64(b[8:]) != 5 {
		t.Fatalf("assembled %x, %v", b, err)
	}
	if _, err := loc.Assemble(regs, nil, 16); err == nil || err.Error() != "part of the value is on the stack at CFA-96" {
		t.Fatalf("without memory: %v", err)
	}
	if _, err := loc.AssembleFrom(regs, nil, mem, 0x2000, 16); err == nil {
		t.Fatal("an unreadable stack piece assembled")
	}
}

// TestInlinedArgumentInPieces: in the optimized inlinepieces, the key of
// find's copy in match is one piece in a register and one in match's
// frame (the pointer spilled, the length in RBX with Go 1.26): the
// location keeps both, in offset order, where it once was refused.
func TestInlinedArgumentInPieces(t *testing.T) {
	bi, types := open(t, "inlinepieces", fixture.Flavour{Optimized: true})
	insts, err := bi.InlinedInstances("main.(*node).find")
	if err != nil || len(insts) != 1 {
		t.Fatalf("%d copies, %v", len(insts), err)
	}
	frames, err := LoadFrames(bi)
	if err != nil {
		t.Fatal(err)
	}
	in, err := FindInlined(bi, types, frames, insts[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Args) != 2 || in.Args[1].Name != "k" || in.ArgErr[1] != "" {
		t.Fatalf("args %+v, errors %q", in.Args, in.ArgErr)
	}
	loc := in.ArgLocs[1]
	var regs, stack int
	for _, p := range loc.Pieces {
		if p.Stack {
			stack++
		} else {
			regs++
		}
	}
	if !loc.InRegs || regs == 0 || stack == 0 || loc.Pieces[0].Off != 0 || loc.Pieces[1].Off != 8 {
		t.Fatalf("k at %s, want a register piece and a stack piece", loc)
	}
}
