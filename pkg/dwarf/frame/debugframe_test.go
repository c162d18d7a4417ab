package frame

import (
	"errors"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestGoDebugFrameCIE checks the single CIE the Go linker writes.
func TestGoDebugFrameCIE(t *testing.T) {
	f := openELF(t, fixture.Build(t, "basic", fixture.Flavour{}))
	tab := parseSection(t, f, ".debug_frame")
	if tab.Len() < 1000 {
		t.Fatalf("only %d FDEs in a Go binary", tab.Len())
	}
	cie := tab.FDE(0).CIE
	if cie.Version != 3 || cie.Augmentation != "" || cie.CodeAlign != 1 || cie.DataAlign != -4 || cie.RetAddrReg != regRA || cie.AddressSize != 8 {
		t.Errorf("CIE = %+v, want version 3, augmentation \"\", code align 1, data align -4, RA 16, address size 8", cie)
	}
	for i := 1; i < tab.Len(); i++ {
		prev, cur := tab.FDE(i-1), tab.FDE(i)
		if cur.CIE != cie {
			t.Fatalf("FDE at %#x uses CIE at %#x, want the single CIE at %#x", cur.Offset, cur.CIE.Offset, cie.Offset)
		}
		if cur.Begin() < prev.End() {
			t.Fatalf("FDEs overlap or are unsorted: [%#x,%#x) then [%#x,%#x)", prev.Begin(), prev.End(), cur.Begin(), cur.End())
		}
	}
}

// TestGoFunctionFrames checks, instruction by instruction, that the rows of
// Go functions match the stack adjustments in their machine code.
func TestGoFunctionFrames(t *testing.T) {
	cases := []struct {
		flavour fixture.Flavour
		fn      string
		// frameSize is the SUBQ immediate the current compiler emits; it
		// pins the exact numbers, the disassembly proves where they apply.
		frameSize int64
	}{
		{fixture.Flavour{}, "main.add", 0x10},
		{fixture.Flavour{}, "main.main", 0x148},
		{fixture.Flavour{Optimized: true}, "main.main", 0xa8},
	}
	for _, c := range cases {
		t.Run(c.flavour.Name()+"/"+c.fn, func(t *testing.T) {
			f := openELF(t, fixture.Build(t, "basic", c.flavour))
			tab := parseSection(t, f, ".debug_frame")
			addr, code := funcCode(t, f, c.fn)
			insns := disassemble(t, addr, code)

			fde, err := tab.FDEForPC(addr)
			if err != nil {
				t.Fatal(err)
			}
			if fde.Begin() != addr || fde.End() != addr+uint64(len(code)) {
				t.Errorf("FDE range [%#x,%#x), want the symbol's [%#x,%#x)", fde.Begin(), fde.End(), addr, addr+uint64(len(code)))
			}

			// Entry: only the return address is on the stack.
			r := checkCFA(t, tab, addr, regRSP, 8)
			checkReg(t, r, addr, regRA, Rule{Kind: RuleOffset, Offset: -8})
			if r.RetAddrReg != regRA || len(r.Regs) != 1 {
				t.Errorf("entry rules %+v: want only the return address rule in column 16", r)
			}

			// After PUSHQ BP and SUBQ $N, SP the CFA is RSP+N+16.
			var afterSub uint64
			var n int64
			for i, in := range insns {
				if in.inst.Op == x86asm.SUB && in.inst.Args[0] == x86asm.RSP {
					afterSub, n = insns[i+1].pc, int64(in.inst.Args[1].(x86asm.Imm))
					break
				}
			}
			if afterSub == 0 {
				t.Fatalf("no SUBQ $N, SP in %s", c.fn)
			}
			if n != c.frameSize {
				t.Errorf("%s allocates %#x bytes, the test expects %#x", c.fn, n, c.frameSize)
			}
			r = checkCFA(t, tab, afterSub, regRSP, n+16)
			checkReg(t, r, afterSub, regRA, Rule{Kind: RuleOffset, Offset: -8})

			// Every instruction up to the first RET.
			want := simulateCFA(t, insns, false)
			for _, in := range insns {
				if e, ok := want[in.pc]; ok {
					checkCFA(t, tab, in.pc, e.reg, e.offset)
				}
			}
		})
	}
}

// TestRowBoundaries checks that RulesAt applies the rows "up to and
// including pc": the last byte before an advance still sees the old row.
func TestRowBoundaries(t *testing.T) {
	f := openELF(t, fixture.Build(t, "basic", fixture.Flavour{}))
	tab := parseSection(t, f, ".debug_frame")
	addr, code := funcCode(t, f, "main.add")
	insns := disassemble(t, addr, code)
	if insns[0].inst.Op != x86asm.PUSH || insns[0].inst.Args[0] != x86asm.RBP {
		t.Fatalf("main.add starts with %v, want PUSHQ BP", insns[0].inst)
	}
	push := insns[1].pc // first address after PUSHQ BP
	checkCFA(t, tab, push-1, regRSP, 8)
	r := checkCFA(t, tab, push, regRSP, 16)
	if r.Loc != push {
		t.Errorf("row at %#x starts at %#x, want %#x", push, r.Loc, push)
	}
	last := addr + uint64(len(code)) - 1
	checkCFA(t, tab, last, regRSP, 8) // the RET
	fde, _ := tab.FDEForPC(addr)
	if _, err := fde.RulesAt(fde.End()); !errors.Is(err, ErrNoFDE) {
		t.Errorf("RulesAt(End) error = %v, want ErrNoFDE", err)
	}
}

// TestNoFDE checks lookups outside every FDE.
func TestNoFDE(t *testing.T) {
	f := openELF(t, fixture.Build(t, "basic", fixture.Flavour{}))
	tab := parseSection(t, f, ".debug_frame")
	for _, pc := range []uint64{0, tab.FDE(0).Begin() - 1, tab.FDE(tab.Len() - 1).End(), ^uint64(0)} {
		_, err := tab.FDEForPC(pc)
		var nf *NoFDEError
		if !errors.As(err, &nf) || nf.PC != pc || !errors.Is(err, ErrNoFDE) {
			t.Errorf("FDEForPC(%#x) error = %v, want *NoFDEError for that pc", pc, err)
		}
	}
}

// TestNoDebugFrame checks the typed error for a binary linked with -w.
func TestNoDebugFrame(t *testing.T) {
	f := openELF(t, fixture.Build(t, "basic", fixture.Flavour{NoDWARF: true}))
	if _, err := ParseELF(f, ".debug_frame"); !errors.Is(err, ErrNoSection) {
		t.Errorf("ParseELF on a -w binary: error %v, want ErrNoSection", err)
	}
}
