package loclist_test

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/loclist"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
)

// toolchains are the Go versions whose DWARF we must read: go1.26 emits
// DWARF 5 (.debug_loclists), go1.24 DWARF 4 (.debug_loc).
var toolchains = []struct {
	name      string
	toolchain string
	dwarf5    bool
}{
	{"go1.26", "", true},
	{"go1.24.13", "go1.24.13", false},
}

// exe is a fixture binary opened for DWARF reading.
type exe struct {
	data      *dwarf.Data
	reader    loclist.Reader
	debugAddr []byte
	dwarf5    bool
}

func openExe(t *testing.T, path string) *exe {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	section := func(name string) []byte {
		s := f.Section(name)
		if s == nil {
			return nil
		}
		b, err := s.Data()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return b
	}
	e := &exe{data: d, debugAddr: section(".debug_addr")}
	// A Go binary's CUs share one DWARF version, so the section present
	// decides the reader (cgo binaries may mix; callers then go per CU).
	if lists := section(".debug_loclists"); lists != nil {
		e.reader, e.dwarf5 = loclist.NewDwarf5Reader(lists, e.debugAddr, 8), true
	} else if loc := section(".debug_loc"); loc != nil {
		e.reader = loclist.NewDwarf4Reader(loc, 8)
	} else {
		t.Fatalf("%s has neither .debug_loc nor .debug_loclists", path)
	}
	return e
}

// unit returns the location-list attributes of compile unit cu.
func unit(cu *dwarf.Entry) loclist.Unit {
	u := loclist.Unit{}
	u.Base, _ = cu.Val(dwarf.AttrLowpc).(uint64)
	if ab, ok := cu.Val(dwarf.AttrAddrBase).(int64); ok {
		u.AddrBase = uint64(ab)
	}
	return u
}

// function finds subprogram name and returns its CU, its entry and its
// children by name.
func (e *exe) function(t *testing.T, name string) (cu, fn *dwarf.Entry, vars map[string]*dwarf.Entry) {
	t.Helper()
	r := e.data.Reader()
	for {
		ent, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ent == nil {
			t.Fatalf("function %s not found", name)
		}
		switch ent.Tag {
		case dwarf.TagCompileUnit:
			cu = ent
			continue
		case dwarf.TagSubprogram:
			if ent.Val(dwarf.AttrName) == name {
				fn, vars = ent, map[string]*dwarf.Entry{}
				for {
					child, err := r.Next()
					if err != nil {
						t.Fatal(err)
					}
					if child == nil || child.Tag == 0 {
						return cu, fn, vars
					}
					if n, ok := child.Val(dwarf.AttrName).(string); ok {
						vars[n] = child
					}
					if child.Children {
						r.SkipChildren()
					}
				}
			}
		}
		if ent.Children && ent.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
		}
	}
}

// location returns the expression of variable v at pc, following its
// location list if it has one.
func (e *exe) location(t *testing.T, cu, v *dwarf.Entry, pc uint64) []byte {
	t.Helper()
	f := v.AttrField(dwarf.AttrLocation)
	if f == nil {
		t.Fatalf("%v has no DW_AT_location", v.Val(dwarf.AttrName))
	}
	switch f.Class {
	case dwarf.ClassExprLoc:
		return f.Val.([]byte)
	case dwarf.ClassLocListPtr:
		expr, err := e.reader.Find(f.Val.(int64), unit(cu), pc)
		if err != nil {
			t.Fatalf("Find(%v): %v", v.Val(dwarf.AttrName), err)
		}
		return expr
	}
	t.Fatalf("%v: DW_AT_location of class %v", v.Val(dwarf.AttrName), f.Class)
	return nil
}

func TestOptimizedArgsInRegisters(t *testing.T) {
	for _, tc := range toolchains {
		t.Run(tc.name, func(t *testing.T) {
			e := openExe(t, fixture.Build(t, "optargs", fixture.Flavour{Optimized: true, Toolchain: tc.toolchain}))
			if e.dwarf5 != tc.dwarf5 {
				t.Fatalf("DWARF 5 location lists = %v, want %v", e.dwarf5, tc.dwarf5)
			}
			regs := op.NewDwarfRegisters(nil, nil)
			for _, c := range []struct {
				fn, arg string
				want    string // disassembly at the function's entry PC
				pieces  []op.Piece
			}{
				{"main.addInts", "a", "DW_OP_reg0", []op.Piece{{Kind: op.RegisterPiece, Reg: 0}}},
				{"main.addInts", "b", "DW_OP_reg3", []op.Piece{{Kind: op.RegisterPiece, Reg: 3}}},
				{"main.sumFloats", "x", "DW_OP_reg17", []op.Piece{{Kind: op.RegisterPiece, Reg: 17}}},
				{"main.sumFloats", "y", "DW_OP_reg18", []op.Piece{{Kind: op.RegisterPiece, Reg: 18}}},
				{"main.strLen", "s", "DW_OP_reg0; DW_OP_piece 8; DW_OP_reg3; DW_OP_piece 8",
					[]op.Piece{{Kind: op.RegisterPiece, Size: 8, Reg: 0}, {Kind: op.RegisterPiece, Size: 8, Reg: 3}}},
				{"main.strLen", "extra", "DW_OP_reg2", []op.Piece{{Kind: op.RegisterPiece, Reg: 2}}},
				{"main.swapPair", "p", "DW_OP_reg0; DW_OP_piece 8; DW_OP_reg3; DW_OP_piece 8",
					[]op.Piece{{Kind: op.RegisterPiece, Size: 8, Reg: 0}, {Kind: op.RegisterPiece, Size: 8, Reg: 3}}},
			} {
				cu, fn, vars := e.function(t, c.fn)
				low := fn.Val(dwarf.AttrLowpc).(uint64)
				v := vars[c.arg]
				if v == nil {
					t.Fatalf("%s has no parameter %s", c.fn, c.arg)
				}
				if cl := v.AttrField(dwarf.AttrLocation).Class; cl != dwarf.ClassLocListPtr {
					t.Fatalf("%s.%s location class %v, want ClassLocListPtr", c.fn, c.arg, cl)
				}
				expr := e.location(t, cu, v, low)
				if got := op.Disassemble(expr); got != c.want {
					t.Errorf("%s.%s at entry %#x: %q, want %q", c.fn, c.arg, low, got, c.want)
				}
				loc, err := op.Execute(expr, regs, nil, 8)
				if err != nil || loc.IsAddr || fmt.Sprint(loc.Pieces) != fmt.Sprint(c.pieces) {
					t.Errorf("%s.%s: Execute = %v, %v; want pieces %v", c.fn, c.arg, loc, err, c.pieces)
				}
				// Every entry lies inside the function and the first starts at its entry.
				entries, err := e.reader.Entries(v.AttrField(dwarf.AttrLocation).Val.(int64), unit(cu))
				if err != nil {
					t.Fatal(err)
				}
				high := highPC(fn, low)
				if len(entries) == 0 || entries[0].LowPC != low {
					t.Errorf("%s.%s: entries %+v do not start at %#x", c.fn, c.arg, entries, low)
				}
				for _, en := range entries {
					if en.LowPC < low || en.HighPC > high || en.Default {
						t.Errorf("%s.%s: entry [%#x,%#x) outside [%#x,%#x)", c.fn, c.arg, en.LowPC, en.HighPC, low, high)
					}
				}
				if expr := e.location(t, cu, v, high); expr != nil {
					t.Errorf("%s.%s has a location past the function end: %s", c.fn, c.arg, op.Disassemble(expr))
				}
			}
		})
	}
}

// highPC returns a subprogram's end address (DW_AT_high_pc may be an offset).
func highPC(fn *dwarf.Entry, low uint64) uint64 {
	f := fn.AttrField(dwarf.AttrHighpc)
	if f.Class == dwarf.ClassConstant {
		return low + uint64(f.Val.(int64))
	}
	return f.Val.(uint64)
}

func TestNonOptimizedArgsOnStack(t *testing.T) {
	const cfa = 0xc000_0f00
	for _, tc := range toolchains {
		t.Run(tc.name, func(t *testing.T) {
			e := openExe(t, fixture.Build(t, "optargs", fixture.Flavour{Toolchain: tc.toolchain}))
			regs := op.NewDwarfRegisters(nil, nil)
			regs.CFA, regs.FrameBase = cfa, cfa // Go's DW_AT_frame_base is DW_OP_call_frame_cfa
			for _, c := range []struct {
				fn, arg string
				want    string // disassembly at the last instruction
				addr    uint64
			}{
				{"main.addInts", "a", "DW_OP_call_frame_cfa", cfa},
				{"main.addInts", "b", "DW_OP_fbreg +8", cfa + 8},
				{"main.addInts", "~r0", "DW_OP_fbreg -32", cfa - 32},
				{"main.addInts", "s", "DW_OP_fbreg -24", cfa - 24},
				{"main.strLen", "s", "DW_OP_call_frame_cfa", cfa},
				{"main.strLen", "extra", "DW_OP_fbreg +16", cfa + 16},
				{"main.strLen", "n", "DW_OP_fbreg -32", cfa - 32},
			} {
				cu, fn, vars := e.function(t, c.fn)
				if fb := op.Disassemble(fn.Val(dwarf.AttrFrameBase).([]byte)); fb != "DW_OP_call_frame_cfa" {
					t.Fatalf("%s frame base %q", c.fn, fb)
				}
				low := fn.Val(dwarf.AttrLowpc).(uint64)
				last := highPC(fn, low) - 1
				expr := e.location(t, cu, vars[c.arg], last)
				if got := op.Disassemble(expr); got != c.want {
					t.Errorf("%s.%s at %#x: %q, want %q", c.fn, c.arg, last, got, c.want)
				}
				loc, err := op.Execute(expr, regs, nil, 8)
				if err != nil || !loc.IsAddr || loc.Addr != c.addr {
					t.Errorf("%s.%s: Execute = %v, %v; want addr %#x", c.fn, c.arg, loc, err, c.addr)
				}
			}
			// Parameters arrive in registers even without optimization.
			cu, fn, vars := e.function(t, "main.addInts")
			if got := op.Disassemble(e.location(t, cu, vars["b"], fn.Val(dwarf.AttrLowpc).(uint64))); got != "DW_OP_reg3" {
				t.Errorf("addInts.b at entry: %q, want DW_OP_reg3", got)
			}
		})
	}
}

// TestEveryListInBinary parses every location list of the optimized fixture
// and evaluates every expression, so that no form Go emits goes untested.
func TestEveryListInBinary(t *testing.T) {
	for _, tc := range toolchains {
		t.Run(tc.name, func(t *testing.T) {
			e := openExe(t, fixture.Build(t, "optargs", fixture.Flavour{Optimized: true, Toolchain: tc.toolchain}))
			vals := make([]uint64, 64)
			present := make([]bool, 64)
			for i := range present {
				vals[i], present[i] = 0x1000*uint64(i+1), true
			}
			regs := op.NewDwarfRegisters(vals, present)
			regs.CFA, regs.FrameBase = 0xc000_0f00, 0xc000_0f00
			var u loclist.Unit
			regs.AddrIndex = func(i uint64) (uint64, error) {
				off := u.AddrBase + 8*i
				if off+8 > uint64(len(e.debugAddr)) {
					return 0, errors.New("index outside .debug_addr")
				}
				return binary.LittleEndian.Uint64(e.debugAddr[off:]), nil
			}
			mem := zeroMem{}
			lists, exprs, entries := 0, 0, 0
			r := e.data.Reader()
			for {
				ent, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				if ent == nil {
					break
				}
				if ent.Tag == dwarf.TagCompileUnit {
					u = unit(ent)
				}
				for _, f := range ent.Field {
					if f.Attr != dwarf.AttrLocation {
						continue
					}
					var all [][]byte
					switch f.Class {
					case dwarf.ClassExprLoc:
						all = append(all, f.Val.([]byte))
					case dwarf.ClassLocListPtr:
						lists++
						es, err := e.reader.Entries(f.Val.(int64), u)
						if err != nil {
							t.Fatalf("list %#x: %v", f.Val, err)
						}
						for _, en := range es {
							if en.HighPC < en.LowPC {
								t.Errorf("list %#x: inverted range [%#x,%#x)", f.Val, en.LowPC, en.HighPC)
							}
							all = append(all, en.Instr)
						}
						entries += len(es)
					default:
						t.Fatalf("DW_AT_location of class %v", f.Class)
					}
					for _, x := range all {
						exprs++
						if _, err := op.Execute(x, regs, mem, 8); err != nil && len(x) > 0 {
							t.Errorf("Execute(%s): %v", op.Disassemble(x), err)
						}
					}
				}
			}
			t.Logf("%s: %d location lists, %d entries, %d expressions evaluated", tc.name, lists, entries, exprs)
			if lists < 1000 || exprs < 5000 {
				t.Fatalf("only %d lists / %d expressions: the walk missed most of the binary", lists, exprs)
			}
		})
	}
}

// zeroMem is memory full of zeros, enough for expressions that dereference.
type zeroMem struct{}

func (zeroMem) ReadMemory(buf []byte, addr uint64) (int, error) {
	clear(buf)
	return len(buf), nil
}
