package frame

import (
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestCgoEHFrame checks the .eh_frame rows of the C functions in the cgocall
// fixture against their machine code.
func TestCgoEHFrame(t *testing.T) {
	for _, fl := range []fixture.Flavour{{}} {
		t.Run(fl.Name(), func(t *testing.T) {
			f := openELF(t, fixture.Build(t, "cgocall", fl))
			tab := parseSection(t, f, ".eh_frame")

			t.Run("c_sum", func(t *testing.T) {
				// gcc -O0 with a frame pointer: push %rbp; mov %rsp,%rbp; ...; pop %rbp; ret.
				addr, code := funcCode(t, f, "c_sum")
				insns := disassemble(t, addr, code)
				if insns[0].inst.Op != x86asm.PUSH || insns[1].inst.Op != x86asm.MOV {
					t.Fatalf("c_sum starts with %v; %v, want push %%rbp; mov %%rsp,%%rbp", insns[0].inst, insns[1].inst)
				}
				fde, err := tab.FDEForPC(addr)
				if err != nil {
					t.Fatal(err)
				}
				if fde.Begin() != addr || fde.CIE.Augmentation != "zR" || fde.CIE.DataAlign != -8 || fde.CIE.FDEEncoding != pePCRel|peSData4 {
					t.Errorf("FDE begins at %#x with CIE %+v, want %#x, \"zR\", data align -8, pcrel|sdata4", fde.Begin(), fde.CIE, addr)
				}
				r := checkCFA(t, tab, addr, regRSP, 8)
				checkReg(t, r, addr, regRA, Rule{Kind: RuleOffset, Offset: -8})
				if _, ok := r.Regs[regRBP]; ok {
					t.Errorf("rbp has a rule at entry: %+v", r.Regs[regRBP])
				}
				r = checkCFA(t, tab, insns[1].pc, regRSP, 16)
				checkReg(t, r, insns[1].pc, regRBP, Rule{Kind: RuleOffset, Offset: -16})
				r = checkCFA(t, tab, insns[2].pc, regRBP, 16)
				checkReg(t, r, insns[2].pc, regRBP, Rule{Kind: RuleOffset, Offset: -16})
				checkReg(t, r, insns[2].pc, regRA, Rule{Kind: RuleOffset, Offset: -8})

				want := simulateCFA(t, insns, true)
				for _, in := range insns {
					if e, ok := want[in.pc]; ok {
						checkCFA(t, tab, in.pc, e.reg, e.offset)
					}
				}
			})

			t.Run("c_bigframe", func(t *testing.T) {
				// No frame pointer: push %rbx; sub $N,%rsp.
				addr, code := funcCode(t, f, "c_bigframe")
				insns := disassemble(t, addr, code)
				if insns[0].inst.Op != x86asm.PUSH || insns[0].inst.Args[0] != x86asm.RBX || insns[1].inst.Op != x86asm.SUB {
					t.Fatalf("c_bigframe starts with %v; %v, want push %%rbx; sub $N,%%rsp", insns[0].inst, insns[1].inst)
				}
				n := int64(insns[1].inst.Args[1].(x86asm.Imm))
				if n != 0x200 {
					t.Errorf("c_bigframe allocates %#x bytes, want 0x200", n)
				}
				r := checkCFA(t, tab, insns[1].pc, regRSP, 16)
				checkReg(t, r, insns[1].pc, regRBX, Rule{Kind: RuleOffset, Offset: -16})
				r = checkCFA(t, tab, insns[2].pc, regRSP, n+16)
				checkReg(t, r, insns[2].pc, regRBX, Rule{Kind: RuleOffset, Offset: -16})

				want := simulateCFA(t, insns, false)
				for _, in := range insns {
					if e, ok := want[in.pc]; ok {
						checkCFA(t, tab, in.pc, e.reg, e.offset)
					}
				}
			})

			t.Run("c_leaf_noframe", func(t *testing.T) {
				addr, code := funcCode(t, f, "c_leaf_noframe")
				for _, in := range disassemble(t, addr, code) {
					checkCFA(t, tab, in.pc, regRSP, 8)
				}
			})

			// The Go part of the same binary keeps its .debug_frame.
			dbg := parseSection(t, f, ".debug_frame")
			addr, _ := funcCode(t, f, "main.main")
			checkCFA(t, dbg, addr, regRSP, 8)
			if _, err := tab.FDEForPC(addr); err == nil {
				t.Errorf(".eh_frame unexpectedly covers Go's main.main at %#x", addr)
			}
		})
	}
}

// TestSystemBinaryEHFrame reads the .eh_frame of /bin/true (C, built by the
// distribution) and checks its well-known PLT entry.
func TestSystemBinaryEHFrame(t *testing.T) {
	f := openELF(t, "/bin/true")
	tab := parseSection(t, f, ".eh_frame")
	if tab.Len() < 10 {
		t.Fatalf("%d FDEs in /bin/true", tab.Len())
	}
	plt := f.Section(".plt")
	if plt == nil {
		testenv.SkipOrFail(t, "/bin/true has no .plt section to check a def_cfa_expression FDE on")
	}
	// The lazy-binding PLT's FDE uses def_cfa_expression after its first
	// 16 bytes (push GOT[1]; jmp *GOT[2]).
	fde, err := tab.FDEForPC(plt.Addr)
	if err != nil {
		t.Fatal(err)
	}
	r := checkCFA(t, tab, plt.Addr, regRSP, 16)
	checkReg(t, r, plt.Addr, regRA, Rule{Kind: RuleOffset, Offset: -8})
	r, err = fde.RulesAt(plt.Addr + 16)
	if err != nil {
		t.Fatal(err)
	}
	// DW_OP_breg7 8; DW_OP_breg16 0; DW_OP_lit15; DW_OP_and; DW_OP_lit11 (or lit10);
	// DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus.
	if len(r.CFA.Expr) != 11 || r.CFA.Expr[0] != 0x77 || r.CFA.Expr[1] != 8 || r.CFA.Expr[2] != 0x80 || r.CFA.Expr[10] != 0x22 {
		t.Errorf("PLT CFA expression % x, want the breg7/breg16 ... plus sequence", r.CFA.Expr)
	}
}
