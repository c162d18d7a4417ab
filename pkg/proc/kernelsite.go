package proc

import "golang.org/x/arch/x86/x86asm"

// maxLeadIn bounds the instructions pushBefore looks at: a prologue.
const maxLeadIn = 64

// pushBefore finds, in the function containing pc, the last PUSH of a
// register before pc such that only register moves and stack-pointer
// arithmetic lie between it and pc: Go's prologue (PUSHQ BP; MOVQ SP, BP;
// SUBQ $n, SP). Nothing jumps into that run, so a thread at the PUSH
// reaches pc by executing it, as stepping does.
func (t *Target) pushBefore(pc uint64) (uint64, bool) {
	fn, ok := t.sym.PCToFunc(pc)
	if !ok || pc <= fn.Entry || pc-fn.Entry > maxLeadIn {
		return 0, false
	}
	text := make([]byte, pc-fn.Entry)
	if _, err := t.proc.ReadMemory(text, fn.Entry); err != nil {
		return 0, false
	}
	push, found := uint64(0), false
	for off := 0; off < len(text); {
		inst, err := x86asm.Decode(text[off:], 64)
		if err != nil {
			return 0, false
		}
		addr := fn.Entry + uint64(off)
		switch {
		case inst.Op == x86asm.PUSH && isReg(inst.Args[0]):
			push, found = addr, true
		case found && straightLine(inst):
		default:
			found = false // a branch or memory access: start again after it
		}
		off += inst.Len
		if off > len(text) {
			return 0, false
		}
	}
	return push, found
}

func isReg(a x86asm.Arg) bool {
	_, ok := a.(x86asm.Reg)
	return ok
}

// straightLine accepts the prologue's instructions after the PUSH: they
// touch registers only and never branch.
func straightLine(inst x86asm.Inst) bool {
	switch inst.Op {
	case x86asm.MOV, x86asm.SUB, x86asm.ADD, x86asm.LEA:
		if !isReg(inst.Args[0]) {
			return false
		}
		for _, a := range inst.Args[1:] {
			if a == nil {
				break
			}
			if _, ok := a.(x86asm.Mem); ok && inst.Op != x86asm.LEA {
				return false
			}
		}
		return true
	}
	return false
}
