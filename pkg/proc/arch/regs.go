// Package arch describes the amd64 machine as the debugger sees it: the
// register file, DWARF register numbering and the breakpoint instruction.
package arch

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

// DWARF register numbers for amd64, from the System V psABI.
const (
	DwarfRax = 0
	DwarfRdx = 1
	DwarfRcx = 2
	DwarfRbx = 3
	DwarfRsi = 4
	DwarfRdi = 5
	DwarfRbp = 6
	DwarfRsp = 7
	DwarfR8  = 8
	DwarfR15 = 15
	DwarfRip = 16 // the return-address column in CFI
	// DwarfXmm0 is the first SSE register; XMM0–XMM15 are 17–32.
	DwarfXmm0   = 17
	DwarfEflags = 49
	DwarfFsBase = 58
	DwarfGsBase = 59
	// NumDwarfRegs bounds the table of general registers the debugger tracks.
	NumDwarfRegs = 60
)

// DwarfRegs returns the registers indexed by DWARF number; entries the
// register file does not hold are zero and marked absent in the mask.
func (r *Registers) DwarfRegs() (vals [NumDwarfRegs]uint64, present [NumDwarfRegs]bool) {
	set := func(n int, v uint64) { vals[n] = v; present[n] = true }
	set(DwarfRax, r.Rax)
	set(DwarfRdx, r.Rdx)
	set(DwarfRcx, r.Rcx)
	set(DwarfRbx, r.Rbx)
	set(DwarfRsi, r.Rsi)
	set(DwarfRdi, r.Rdi)
	set(DwarfRbp, r.Rbp)
	set(DwarfRsp, r.Rsp)
	set(8, r.R8)
	set(9, r.R9)
	set(10, r.R10)
	set(11, r.R11)
	set(12, r.R12)
	set(13, r.R13)
	set(14, r.R14)
	set(15, r.R15)
	set(DwarfRip, r.Rip)
	set(DwarfEflags, r.Eflags)
	set(DwarfFsBase, r.FsBase)
	set(DwarfGsBase, r.GsBase)
	return vals, present
}

// DwarfRegName returns the conventional name of a DWARF register number.
func DwarfRegName(n int) string {
	names := [...]string{"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"}
	switch {
	case n >= 0 && n < len(names):
		return names[n]
	case n >= DwarfXmm0 && n < DwarfXmm0+16:
		return "xmm" + itoa(n-DwarfXmm0)
	case n == DwarfEflags:
		return "eflags"
	case n == DwarfFsBase:
		return "fs_base"
	case n == DwarfGsBase:
		return "gs_base"
	}
	return "r?" + itoa(n)
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}
