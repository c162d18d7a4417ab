package native

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/sys/unix"
)

// A probe's int3 replaces the first byte of an instruction the program
// still has to execute. Restoring the byte and single-stepping would need
// every other thread stopped (it could run through the probe unnoticed
// meanwhile), so the tracer executes the displaced instruction itself for
// the few forms that make up nearly every probe site of Go code: the frame
// setup (PUSHQ BP), RET, and the moves and address computations that open
// leaf functions. None of them reads or writes flags, so registers and
// memory are all they change.

// emuForm is the class of an instruction the tracer can execute in place.
type emuForm int

const (
	formNone emuForm = iota // not emulated: the probe falls back to a single step
	formNop
	formPush // PUSHQ r64
	formRet  // RET without an immediate
	formLea  // LEA r32/r64, m
	formMov  // MOV between a r32/r64 and a register, an immediate or memory
)

// emuInst is a decoded probe instruction.
type emuInst struct {
	inst x86asm.Inst
	form emuForm
}

// decodeProbe decodes the instruction a probe displaced and says whether it
// can be emulated. Bytes that do not decode are kept for the fallback.
func decodeProbe(code []byte) (emuInst, error) {
	inst, err := x86asm.Decode(code, 64)
	if err != nil {
		return emuInst{}, fmt.Errorf("decoding probe instruction % x: %w", code, err)
	}
	return emuInst{inst: inst, form: classify(inst)}, nil
}

func classify(in x86asm.Inst) emuForm {
	if in.Op == x86asm.NOP {
		return formNop // whatever its prefixes and operands, it only moves RIP
	}
	if !onlyRexPrefixes(in) {
		return formNone // LOCK, REP, segment or size overrides
	}
	switch in.Op {
	case x86asm.PUSH:
		if r, ok := in.Args[0].(x86asm.Reg); ok && regSize(r) == 8 {
			return formPush
		}
	case x86asm.RET:
		if in.Args[0] == nil {
			return formRet
		}
	case x86asm.LEA:
		if r, ok := in.Args[0].(x86asm.Reg); ok && regSize(r) >= 4 && plainMem(in.Args[1]) {
			return formLea
		}
	case x86asm.MOV:
		if movOperands(in) {
			return formMov
		}
	}
	return formNone
}

// onlyRexPrefixes reports whether the prefixes only select 64-bit operands
// or extended registers, which the operands already reflect.
func onlyRexPrefixes(in x86asm.Inst) bool {
	for _, p := range in.Prefix {
		if p == 0 {
			break
		}
		if b := p & 0xff; b < x86asm.PrefixREX || b > x86asm.PrefixREX+0xf || p&x86asm.PrefixInvalid != 0 {
			// Anything but REX changes the meaning.
			return false
		}
	}
	return true
}

// plainMem reports whether a is a memory operand without a segment
// override (FS/GS would need the segment bases).
func plainMem(a x86asm.Arg) bool {
	m, ok := a.(x86asm.Mem)
	return ok && m.Segment == 0
}

// movOperands accepts MOV forms with a 4- or 8-byte general register or a
// plain memory operand of that size on each side.
func movOperands(in x86asm.Inst) bool {
	switch dst := in.Args[0].(type) {
	case x86asm.Reg:
		size := regSize(dst)
		if size < 4 {
			return false
		}
		switch src := in.Args[1].(type) {
		case x86asm.Reg:
			return regSize(src) == size
		case x86asm.Imm:
			return true
		case x86asm.Mem:
			return src.Segment == 0 && in.MemBytes == size
		}
	case x86asm.Mem:
		if dst.Segment != 0 || (in.MemBytes != 4 && in.MemBytes != 8) {
			return false
		}
		switch src := in.Args[1].(type) {
		case x86asm.Reg:
			return regSize(src) == in.MemBytes
		case x86asm.Imm:
			return true
		}
	}
	return false
}

// regSize is the width in bytes of a general-purpose register operand, 0
// for anything else (8- and 16-bit registers, which merge into the old
// value, are left to the fallback).
func regSize(r x86asm.Reg) int {
	switch {
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return 4
	case r >= x86asm.RAX && r <= x86asm.R15:
		return 8
	}
	return 0
}

// gpr returns the ptrace slot of a 4- or 8-byte general register.
func gpr(regs *unix.PtraceRegs, r x86asm.Reg) *uint64 {
	var i int
	switch regSize(r) {
	case 4:
		i = int(r - x86asm.EAX)
	case 8:
		i = int(r - x86asm.RAX)
	default:
		return nil
	}
	// Hardware encoding order, which x86asm's register constants follow.
	return [...]*uint64{&regs.Rax, &regs.Rcx, &regs.Rdx, &regs.Rbx, &regs.Rsp, &regs.Rbp, &regs.Rsi, &regs.Rdi,
		&regs.R8, &regs.R9, &regs.R10, &regs.R11, &regs.R12, &regs.R13, &regs.R14, &regs.R15}[i]
}

// readReg returns a register's value as the instruction sees it.
func readReg(regs *unix.PtraceRegs, r x86asm.Reg) uint64 {
	v := *gpr(regs, r)
	if regSize(r) == 4 {
		v = uint64(uint32(v))
	}
	return v
}

// writeReg stores v; a 32-bit destination clears the upper half, as the
// CPU does.
func writeReg(regs *unix.PtraceRegs, r x86asm.Reg, v uint64) {
	if regSize(r) == 4 {
		v = uint64(uint32(v))
	}
	*gpr(regs, r) = v
}

// memAccess is the tracee memory the emulator reads and writes.
type memAccess interface {
	read(addr uint64, buf []byte) error
	write(addr uint64, data []byte) error
}

// effAddr computes a memory operand's address; RIP-relative operands count
// from the end of the instruction.
func effAddr(in *x86asm.Inst, pc uint64, regs *unix.PtraceRegs, m x86asm.Mem) uint64 {
	addr := uint64(m.Disp)
	switch {
	case m.Base == x86asm.RIP:
		addr += pc + uint64(in.Len)
	case m.Base != 0:
		addr += readReg(regs, m.Base)
	}
	if m.Index != 0 {
		addr += readReg(regs, m.Index) * uint64(m.Scale)
	}
	if in.AddrSize == 32 {
		addr = uint64(uint32(addr))
	}
	return addr
}

var errNotEmulated = errors.New("instruction is not emulated")

// emulate executes the instruction at pc on regs and mem, leaving regs as
// the CPU would after it.
func emulate(e *emuInst, pc uint64, regs *unix.PtraceRegs, mem memAccess) error {
	in := &e.inst
	next := pc + uint64(in.Len)
	var buf [8]byte
	switch e.form {
	case formNop:
	case formPush:
		v := readReg(regs, in.Args[0].(x86asm.Reg)) // PUSHQ SP stores the old SP
		binary.LittleEndian.PutUint64(buf[:], v)
		if err := mem.write(regs.Rsp-8, buf[:]); err != nil {
			return fmt.Errorf("push at %#x: %w", pc, err)
		}
		regs.Rsp -= 8
	case formRet:
		if err := mem.read(regs.Rsp, buf[:]); err != nil {
			return fmt.Errorf("ret at %#x: %w", pc, err)
		}
		regs.Rsp += 8
		next = binary.LittleEndian.Uint64(buf[:])
	case formLea:
		dst := in.Args[0].(x86asm.Reg)
		writeReg(regs, dst, effAddr(in, pc, regs, in.Args[1].(x86asm.Mem)))
	case formMov:
		if err := emulateMov(in, pc, regs, mem); err != nil {
			return err
		}
	default:
		return errNotEmulated
	}
	regs.Rip = next
	return nil
}

func emulateMov(in *x86asm.Inst, pc uint64, regs *unix.PtraceRegs, mem memAccess) error {
	var buf [8]byte
	switch dst := in.Args[0].(type) {
	case x86asm.Reg:
		var v uint64
		switch src := in.Args[1].(type) {
		case x86asm.Reg:
			v = readReg(regs, src)
		case x86asm.Imm:
			v = uint64(int64(src))
		case x86asm.Mem:
			n := regSize(dst)
			if err := mem.read(effAddr(in, pc, regs, src), buf[:n]); err != nil {
				return fmt.Errorf("mov at %#x: %w", pc, err)
			}
			v = binary.LittleEndian.Uint64(buf[:])
		}
		writeReg(regs, dst, v)
	case x86asm.Mem:
		var v uint64
		switch src := in.Args[1].(type) {
		case x86asm.Reg:
			v = readReg(regs, src)
		case x86asm.Imm:
			v = uint64(int64(src))
		}
		binary.LittleEndian.PutUint64(buf[:], v)
		if err := mem.write(effAddr(in, pc, regs, dst), buf[:in.MemBytes]); err != nil {
			return fmt.Errorf("mov at %#x: %w", pc, err)
		}
	}
	return nil
}
