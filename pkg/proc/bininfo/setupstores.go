package bininfo

import "golang.org/x/arch/x86/x86asm"

// SetupStore is one store into a function's own stack frame made by the
// code before its first statement after the frame setup: in -N -l code
// the spills of register arguments, the zeroing of results, and a
// closure's copies of its captured variables from the closure context.
// Until such a store has run, the slot it writes is not yet the variable
// DWARF places there (which, without Go 1.23's DW_AT_go_closure_offset,
// says nothing of the context).
type SetupStore struct {
	PC     uint64 // run-time address of the store instruction
	CFAOff int64  // the slot written, from the CFA (Go's frame base)
	Size   int
	// CtxOff is where in the closure context (DX) the stored value was
	// loaded from by the instruction before, or -1 for any other value.
	CtxOff int64
}

// maxSetupScan bounds how much of a function's start SetupStores decodes:
// a -N -l closure with many captured variables still copies them in a
// few hundred bytes.
const maxSetupScan = 1024

// SetupStores decodes fn's code from its entry to its first statement
// after the frame setup and returns the stores into its frame there, and
// the last run-time address at which DX still holds the closure context:
// the first instruction that writes DX (it has not run while the PC is
// on it), a call or a jump, or the end of the scan. Stores after DX is
// overwritten are still returned: their slots are not written before
// them either. It tracks the stack pointer from the entry (pushes and
// the frame's SUBQ) to turn SP-relative slots into CFA offsets; at a
// call, a jump or a form it does not follow it stops, returning what it
// has.
func (bi *BinaryInfo) SetupStores(fn *Function) ([]SetupStore, uint64) {
	if fn == nil || fn.CU == nil {
		return nil, 0
	}
	setup := bi.FrameSetupEnd(fn)
	end := fn.End
	if stmts, err := bi.StmtPCs(fn, false); err == nil {
		for _, st := range stmts {
			if st.PC > setup {
				end = st.PC
				break
			}
		}
	}
	if end <= fn.Entry {
		return nil, fn.Entry
	}
	n := end - fn.Entry
	if n > maxSetupScan {
		n = maxSetupScan
	}
	bias := bi.Bias()
	code, err := bi.readCode(fn.Entry-bias, int(n))
	if err != nil {
		return nil, fn.Entry
	}
	return scanSetup(code, fn.Entry)
}

// scanSetup is SetupStores over code starting at the run-time address pc.
func scanSetup(code []byte, pc uint64) ([]SetupStore, uint64) {
	var out []SetupStore
	var until uint64 // where DX stopped being the context, once it has
	// below is how far SP is below the CFA: the return address at entry.
	below := int64(8)
	type loaded struct {
		off  int64
		size int
	}
	held := map[x86asm.Reg]loaded{} // registers holding a word of the context
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			return out, orAt(until, pc+uint64(off))
		}
		at := pc + uint64(off)
		off += inst.Len
		dst, _ := inst.Args[0].(x86asm.Reg)
		switch inst.Op {
		case x86asm.CALL, x86asm.JMP, x86asm.RET:
			return out, orAt(until, at)
		case x86asm.PUSH:
			below += 8
			continue
		case x86asm.SUB, x86asm.ADD:
			if dst == x86asm.RSP {
				imm, ok := inst.Args[1].(x86asm.Imm)
				if !ok {
					return out, orAt(until, at)
				}
				if inst.Op == x86asm.SUB {
					below += int64(imm)
				} else {
					below -= int64(imm)
				}
				continue
			}
		}
		if m, ok := inst.Args[0].(x86asm.Mem); ok && m.Base == x86asm.RSP && m.Index == 0 && m.Segment == 0 {
			st := SetupStore{PC: at, CFAOff: m.Disp - below, Size: inst.MemBytes, CtxOff: -1}
			if r, ok := inst.Args[1].(x86asm.Reg); ok {
				if l, ok := held[r]; ok && l.size == st.Size {
					st.CtxOff = l.off
				}
			}
			out = append(out, st)
			continue
		}
		if dst == 0 {
			continue // compares, tests, conditional jumps: nothing written
		}
		if wholeReg(dst) {
			delete(held, dst)
		} else {
			clear(held) // a part of a register: it may alias one holding a context word
		}
		if m, ok := inst.Args[1].(x86asm.Mem); ok && until == 0 && isMove(inst.Op) && m.Base == x86asm.RDX && m.Index == 0 && m.Segment == 0 {
			held[dst] = loaded{off: m.Disp, size: inst.MemBytes}
		}
		// The last copy may load into DX itself (MOVQ 16(DX), DX): the
		// load reads the context, and from there DX is the word loaded.
		if writesDX(dst) && until == 0 {
			until = at
		}
	}
	return out, orAt(until, pc+uint64(len(code)))
}

// orAt returns until if DX was overwritten, else at.
func orAt(until, at uint64) uint64 {
	if until != 0 {
		return until
	}
	return at
}

// isMove reports the plain loads a context copy uses: MOVQ for words,
// MOVUPS for 16-byte values; sign or zero extension changes the value.
func isMove(op x86asm.Op) bool {
	return op == x86asm.MOV || op == x86asm.MOVUPS || op == x86asm.MOVSD_XMM || op == x86asm.MOVSS
}

// wholeReg reports a 64-bit general register or an XMM register, which a
// write replaces entirely and which aliases no other register of the set.
func wholeReg(r x86asm.Reg) bool {
	return (r >= x86asm.RAX && r <= x86asm.R15) || (r >= x86asm.X0 && r <= x86asm.X15)
}

func writesDX(r x86asm.Reg) bool {
	return r == x86asm.RDX || r == x86asm.EDX || r == x86asm.DX || r == x86asm.DL || r == x86asm.DH
}
