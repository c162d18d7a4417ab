package stack_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
)

// TestPLTCFAExpression unwinds out of a lazy-binding PLT stub of a cgo
// binary, whose .eh_frame row (written by the system linker) defines the CFA
// with DW_CFA_def_cfa_expression: rsp+8, plus 8 once the stub has pushed
// its relocation index (at byte 11 of the 16-byte entry and later).
func TestPLTCFAExpression(t *testing.T) {
	exe := fixture.Build(t, "cgocall", fixture.Flavour{})
	bi, err := bininfo.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	plt := bi.ELF().Section(".plt")
	if plt == nil || plt.Addr%16 != 0 || plt.Size < 48 {
		t.Fatalf("cgocall has no usable .plt (%v)", plt)
	}
	mainFn, err := bi.LookupFunc("main.main")
	if err != nil {
		t.Fatal(err)
	}
	u := stack.New(bi)
	const sp = 0x7ffe0000
	ret := mainFn.Entry + 5 // any return address inside main.main
	for _, c := range []struct {
		name   string
		pc     uint64 // in the second entry, after the 16-byte PLT0
		cfa    uint64
		retAt  uint64 // where the caller's return address is stored
		pushed bool
	}{
		{"jmp through GOT", plt.Addr + 0x10, sp + 8, sp, false},
		{"after push", plt.Addr + 0x10 + 11, sp + 16, sp + 8, true},
		{"last byte", plt.Addr + 0x10 + 15, sp + 16, sp + 8, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := wordMem{c.retAt: ret}
			if c.pushed {
				mem[sp] = 1 // the relocation index the stub pushed
			}
			regs := &op.DwarfRegisters{}
			regs.AddReg(regnum.Rip, c.pc)
			regs.AddReg(regnum.Rsp, sp)
			frames, err := u.Unwind(mem, regs, stack.Options{MaxDepth: 2})
			if err != nil || len(frames) != 2 {
				t.Fatalf("Unwind = %d frames, %v; want 2 frames", len(frames), err)
			}
			if frames[0].PC != c.pc || frames[0].CFA != c.cfa {
				t.Errorf("PLT frame pc %#x cfa %#x, want pc %#x cfa %#x", frames[0].PC, frames[0].CFA, c.pc, c.cfa)
			}
			if f := frames[1]; f.Func.Name != "main.main" || f.PC != ret || f.SP != c.cfa {
				t.Errorf("caller %s pc %#x sp %#x, want main.main pc %#x sp %#x", f.Func.Name, f.PC, f.SP, ret, c.cfa)
			}
		})
	}
}
