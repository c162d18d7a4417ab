package frame

import (
	"debug/elf"
	"fmt"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// DWARF register numbers on amd64 used by the tests.
const (
	regRBX = 3
	regRBP = 6
	regRSP = 7
	regRA  = 16
)

// openELF opens path and closes it when the test ends.
func openELF(t testing.TB, path string) *elf.File {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// parseSection indexes a CFI section of f, failing the test on error.
func parseSection(t testing.TB, f *elf.File, name string) *Table {
	t.Helper()
	tab, err := ParseELF(f, name)
	if err != nil {
		t.Fatalf("ParseELF(%s): %v", name, err)
	}
	return tab
}

// funcCode returns the address and machine code of the named function symbol.
func funcCode(t testing.TB, f *elf.File, name string) (uint64, []byte) {
	t.Helper()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != name || elf.ST_TYPE(s.Info) != elf.STT_FUNC {
			continue
		}
		text := f.Section(".text")
		if text == nil || s.Value < text.Addr || s.Value+s.Size > text.Addr+text.Size {
			t.Fatalf("%s at %#x is outside .text", name, s.Value)
		}
		data, err := text.Data()
		if err != nil {
			t.Fatal(err)
		}
		off := s.Value - text.Addr
		return s.Value, data[off : off+s.Size]
	}
	t.Fatalf("symbol %s not found", name)
	return 0, nil
}

// insn is one decoded instruction of a function.
type insn struct {
	pc   uint64
	inst x86asm.Inst
}

// disassemble decodes code located at addr, failing on undecodable bytes.
func disassemble(t testing.TB, addr uint64, code []byte) []insn {
	t.Helper()
	var out []insn
	for off := 0; off < len(code); {
		in, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			t.Fatalf("decoding at %#x: %v", addr+uint64(off), err)
		}
		out = append(out, insn{pc: addr + uint64(off), inst: in})
		off += in.Len
	}
	return out
}

// expectedCFA is the CFA rule implied by the instructions executed so far.
type expectedCFA struct {
	reg    uint64
	offset int64
}

func (e expectedCFA) String() string { return fmt.Sprintf("r%d%+d", e.reg, e.offset) }

// simulateCFA walks the instructions of a function from its entry to its
// first RET and returns, for each instruction's address, the CFA that the
// stack adjustments before it imply. Straight-line simulation is valid up to
// the first RET because neither Go nor gcc -O0/-O1 code changes the stack
// depth inside the body. fpBased says the compiler switches the CFA to
// rbp after "mov %rsp,%rbp" (gcc does, Go does not).
func simulateCFA(t testing.TB, insns []insn, fpBased bool) map[uint64]expectedCFA {
	t.Helper()
	out := make(map[uint64]expectedCFA)
	depth := int64(8) // CFA - RSP: the return address pushed by CALL
	usingFP := false
	for _, in := range insns {
		if usingFP {
			out[in.pc] = expectedCFA{regRBP, depth}
		} else {
			out[in.pc] = expectedCFA{regRSP, depth}
		}
		a := in.inst.Args
		switch in.inst.Op {
		case x86asm.RET:
			return out
		case x86asm.PUSH:
			depth += 8
		case x86asm.POP:
			depth -= 8
			if a[0] == x86asm.RBP && usingFP {
				usingFP = false
			}
		case x86asm.SUB, x86asm.ADD:
			if a[0] != x86asm.RSP {
				break
			}
			imm, ok := a[1].(x86asm.Imm)
			if !ok {
				t.Fatalf("%#x: %v: stack adjustment by a non-constant", in.pc, in.inst)
			}
			if in.inst.Op == x86asm.SUB {
				depth += int64(imm)
			} else {
				depth -= int64(imm)
			}
		case x86asm.MOV:
			if fpBased && a[0] == x86asm.RBP && a[1] == x86asm.RSP {
				usingFP = true
			}
		}
	}
	t.Fatalf("function has no RET")
	return nil
}

// rulesAt looks pc up in tab and returns its rules, failing the test on error.
func rulesAt(t testing.TB, tab *Table, pc uint64) *Rules {
	t.Helper()
	fde, err := tab.FDEForPC(pc)
	if err != nil {
		t.Fatalf("FDEForPC(%#x): %v", pc, err)
	}
	r, err := fde.RulesAt(pc)
	if err != nil {
		t.Fatalf("RulesAt(%#x): %v", pc, err)
	}
	return r
}

// checkCFA asserts that the CFA rule at pc is reg+offset.
func checkCFA(t testing.TB, tab *Table, pc uint64, reg uint64, offset int64) *Rules {
	t.Helper()
	r := rulesAt(t, tab, pc)
	if r.CFA.Expr != nil || r.CFA.Reg != reg || r.CFA.Offset != offset {
		t.Errorf("CFA at %#x = %+v, want r%d%+d", pc, r.CFA, reg, offset)
	}
	return r
}

// checkReg asserts the rule of one register at pc.
func checkReg(t testing.TB, r *Rules, pc uint64, reg uint64, want Rule) {
	t.Helper()
	got, ok := r.Regs[reg]
	if !ok {
		t.Errorf("at %#x: register %d has no rule, want %v%+d", pc, reg, want.Kind, want.Offset)
		return
	}
	if got.Kind != want.Kind || got.Offset != want.Offset || got.Reg != want.Reg || string(got.Expr) != string(want.Expr) {
		t.Errorf("at %#x: register %d rule %+v, want %+v", pc, reg, got, want)
	}
}
