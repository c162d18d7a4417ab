// Package regnum numbers the amd64 registers as DWARF does (System V psABI,
// figure 3.36). Location expressions and call frame information name
// registers by these numbers; the packages that read them share this table
// instead of the debugger's register file.
package regnum

import "strconv"

// DWARF numbers of the amd64 registers the debugger tracks.
const (
	Rax = 0
	Rdx = 1
	Rcx = 2
	Rbx = 3
	Rsi = 4
	Rdi = 5
	Rbp = 6
	Rsp = 7
	R8  = 8
	R9  = 9
	R10 = 10
	R11 = 11
	R12 = 12
	R13 = 13
	R14 = 14
	R15 = 15
	// Rip is the return-address column in CFI.
	Rip = 16
	// Xmm0 is the first SSE register; XMM0–XMM15 are 17–32.
	Xmm0   = 17
	Xmm15  = 32
	Eflags = 49
	FsBase = 58
	GsBase = 59
	// Count bounds the general registers above: every one has a number
	// below it, so a table of Count entries holds them all.
	Count = 60
)

// generalNames are the conventional names of registers 0–16.
var generalNames = [...]string{"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"}

// IsXmm reports whether register n is one of XMM0–XMM15.
func IsXmm(n uint64) bool { return n >= Xmm0 && n <= Xmm15 }

// Name returns the conventional name of register n, or "r?N" for a number
// this table does not know, so that error messages still say which.
func Name(n int) string {
	switch {
	case n >= 0 && n < len(generalNames):
		return generalNames[n]
	case n >= 0 && IsXmm(uint64(n)):
		return "xmm" + strconv.Itoa(n-Xmm0)
	case n == Eflags:
		return "eflags"
	case n == FsBase:
		return "fs_base"
	case n == GsBase:
		return "gs_base"
	}
	return "r?" + strconv.Itoa(n)
}
