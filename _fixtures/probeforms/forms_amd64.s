#include "textflag.h"

// func forms(x uint64, p *[4]uint64) uint64
//
// Each instruction between the register set-up and the checksum is one form
// the tracer emulates; ADDQ at the end is one it does not (it sets flags).
TEXT ·forms(SB), NOSPLIT, $24-24
	MOVQ x+0(FP), AX
	MOVQ p+8(FP), BX
	MOVQ $0x0123456789abcdef, SI
	PUSHQ BP
	POPQ BP
	BYTE $0x0f; BYTE $0x1f; BYTE $0x00 // NOPL (AX)
	LEAQ 8(AX)(SI*4), CX
	LEAL -3(SI), DX
	LEAQ ·table(SB), DI
	MOVQ SI, R8
	MOVL SI, R9
	MOVQ $-5, R10
	MOVL $0xfedcba98, R11
	MOVQ $0x1122334455667788, R12
	MOVQ 8(BX), R13
	MOVL 16(BX), DX
	MOVQ CX, 0(BX)
	MOVL SI, 24(BX)
	MOVQ $-7, 8(SP)
	MOVL $9, 16(SP)
	MOVQ 8(DI), DI
	CALL ·leaf(SB)
	ADDQ CX, AX
	ADDQ DX, AX
	ADDQ DI, AX
	ADDQ R8, AX
	ADDQ R9, AX
	ADDQ R10, AX
	ADDQ R11, AX
	ADDQ R12, AX
	ADDQ R13, AX
	ADDQ 8(SP), AX
	ADDQ 16(SP), AX
	MOVQ AX, ret+16(FP)
	RET

// leaf is a lone RET, the return-probe form.
TEXT ·leaf(SB), NOSPLIT, $0-0
	RET
