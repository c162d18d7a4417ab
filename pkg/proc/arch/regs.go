// Package arch describes the amd64 machine as the debugger sees it: the
// register file and the breakpoint instruction. DWARF register numbering
// lives in pkg/dwarf/regnum.
package arch

import (
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
)

// BreakpointInstr is the one-byte int3 instruction written over code to make
// a software breakpoint.
var BreakpointInstr = []byte{0xCC}

// Registers is the general-purpose register file of one amd64 thread,
// independent of the backend that read it.
type Registers struct {
	Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rbp, Rsp uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	Rip, Eflags                            uint64
	Cs, Ss, Ds, Es, Fs, Gs                 uint64
	FsBase, GsBase                         uint64
	OrigRax                                uint64
}

// PC returns the instruction pointer.
func (r *Registers) PC() uint64 { return r.Rip }

// SP returns the stack pointer.
func (r *Registers) SP() uint64 { return r.Rsp }

// BP returns the frame pointer.
func (r *Registers) BP() uint64 { return r.Rbp }

// DwarfRegs returns the registers indexed by DWARF number (package regnum);
// entries the register file does not hold are zero and marked absent in
// the mask.
func (r *Registers) DwarfRegs() (vals [regnum.Count]uint64, present [regnum.Count]bool) {
	set := func(n int, v uint64) { vals[n] = v; present[n] = true }
	set(regnum.Rax, r.Rax)
	set(regnum.Rdx, r.Rdx)
	set(regnum.Rcx, r.Rcx)
	set(regnum.Rbx, r.Rbx)
	set(regnum.Rsi, r.Rsi)
	set(regnum.Rdi, r.Rdi)
	set(regnum.Rbp, r.Rbp)
	set(regnum.Rsp, r.Rsp)
	set(regnum.R8, r.R8)
	set(regnum.R9, r.R9)
	set(regnum.R10, r.R10)
	set(regnum.R11, r.R11)
	set(regnum.R12, r.R12)
	set(regnum.R13, r.R13)
	set(regnum.R14, r.R14)
	set(regnum.R15, r.R15)
	set(regnum.Rip, r.Rip)
	set(regnum.Eflags, r.Eflags)
	set(regnum.FsBase, r.FsBase)
	set(regnum.GsBase, r.GsBase)
	return vals, present
}

// SetIntArg writes integer argument register i of Go's register ABI
// (ABIInternal: RAX, RBX, RCX, RDI, RSI, R8–R11), as placing the
// arguments of an injected call does.
func (r *Registers) SetIntArg(i int, v uint64) error {
	regs := [...]*uint64{&r.Rax, &r.Rbx, &r.Rcx, &r.Rdi, &r.Rsi, &r.R8, &r.R9, &r.R10, &r.R11}
	if i < 0 || i >= len(regs) {
		return fmt.Errorf("no integer argument register %d", i)
	}
	*regs[i] = v
	return nil
}

// MaxRegArgBytes is the register space ABIInternal may spill into the
// argument frame of a call: nine integer and fifteen float registers.
const MaxRegArgBytes = 9*8 + 15*8
