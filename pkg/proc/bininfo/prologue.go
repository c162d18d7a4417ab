package bininfo

import "golang.org/x/arch/x86/x86asm"

// stackCheckEnd returns the link-time address just past the stack-growth
// check that opens most Go functions (CMPQ SP, 16(R14) or, before register
// ABI, MOVQ FS:-8, RCX; CMPQ SP, 16(RCX); then JBE to morestack), or lo when
// the function has none (NOSPLIT functions). It is the fallback for
// toolchains that emit no prologue_end marker.
func (bi *BinaryInfo) stackCheckEnd(lo, hi uint64) uint64 {
	n := 48
	if hi > lo && hi-lo < uint64(n) {
		n = int(hi - lo)
	}
	code, err := bi.readCode(lo, n)
	if err != nil {
		return lo
	}
	return lo + uint64(stackCheckLen(code))
}

// stackCheckLen returns the length of the stack check at the start of code,
// or 0 if code does not start with one.
func stackCheckLen(code []byte) int {
	off := 0
	sawCmp := false
	for i := 0; i < 4 && off < len(code); i++ {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			return 0
		}
		off += inst.Len
		switch inst.Op {
		case x86asm.CMP:
			sawCmp = true
		case x86asm.JBE:
			if sawCmp {
				return off
			}
			return 0
		case x86asm.MOV, x86asm.LEA:
			// loading g from TLS, or SP minus a large frame size
		default:
			return 0
		}
	}
	return 0
}
