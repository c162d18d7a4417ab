// Package probe is where the tracers (ptrace breakpoints and eBPF uprobes)
// agree on how to observe a Go function without stopping in its body: the
// addresses to probe (Sites), the function's formal parameters from DWARF
// (Params) and where the Go register ABI keeps each of them at those
// addresses (Assign); and for an inlined copy of a function, its entry,
// exits and arguments from the copy's DWARF (FindInlined). Keeping one copy means both backends print the same
// values for the same call.
package probe

import (
	"debug/elf"
	"fmt"

	"golang.org/x/arch/x86/x86asm"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// Sites are the probe addresses of one function, as run-time addresses.
//
// At every site the CFA is SP+8: the entry precedes the frame setup and a
// RET or tail JMP follows its teardown, so arguments (at Entry) and
// results (at a Return) are where Assign says, relative to SP+8.
type Sites struct {
	// Entry is just past the stack-growth check (CMP against
	// g.stackguard0 at 16(R14), then the conditional jump to the
	// morestack call) and before PUSHQ BP. morestack restarts the function
	// from its first instruction, so a probe before the check would report
	// one call twice; a NOSPLIT function without the check is probed at
	// its first instruction.
	Entry uint64
	// Returns lists every RET of the body in address order. When the body
	// is a single RET, Returns[0] == Entry (see EntryIsReturn).
	Returns []uint64
	// TailJumps lists unconditional direct JMPs whose target lies outside
	// the function (tail calls, e.g. in promoted-method wrappers): the
	// function's frame is gone there and the callee returns straight to
	// the caller, so the call ends at the JMP but its results are not yet
	// computed.
	TailJumps []uint64
}

// EntryIsReturn reports whether the entry site is also a RET (an empty
// body): one probe there must report the call and then the return.
func (s Sites) EntryIsReturn() bool {
	for _, r := range s.Returns {
		if r == s.Entry {
			return true
		}
	}
	return false
}

// maxFuncBytes bounds how much code FindSites decodes, so a corrupt
// function range cannot make it allocate gigabytes.
const maxFuncBytes = 1 << 22

// FindSites decodes fn's machine code from the executable file (never from
// a process, whose text may already hold breakpoints) and returns its
// probe sites.
func FindSites(bi *bininfo.BinaryInfo, fn *bininfo.Function) (Sites, error) {
	if fn.End <= fn.Entry || fn.End-fn.Entry > maxFuncBytes {
		return Sites{}, fmt.Errorf("%s has an invalid code range [%#x, %#x)", fn.Name, fn.Entry, fn.End)
	}
	bias := bi.Bias()
	code, err := readCode(bi.ELF(), fn.Entry-bias, fn.End-bias)
	if err != nil {
		return Sites{}, fmt.Errorf("%s: %w", fn.Name, err)
	}
	return DecodeSites(code, fn.Entry), nil
}

// DecodeSites finds the probe sites in code, the complete body of a
// function that starts at run-time address entry.
func DecodeSites(code []byte, entry uint64) Sites {
	end := entry + uint64(len(code))
	s := Sites{Entry: entry}
	sawCheck := false
	for off, n := 0, 0; off < len(code); n++ {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			// Undecodable bytes are the padding after the last
			// instruction: Go's layout puts no code behind them.
			break
		}
		pc := entry + uint64(off)
		switch {
		case n < 4 && !sawCheck && isStackGuardCmp(inst):
			sawCheck = true
		case n < 5 && sawCheck && s.Entry == entry && isCondJump(inst.Op):
			s.Entry = pc + uint64(inst.Len)
		}
		switch inst.Op {
		case x86asm.RET:
			s.Returns = append(s.Returns, pc)
		case x86asm.JMP:
			if rel, ok := inst.Args[0].(x86asm.Rel); ok {
				target := pc + uint64(inst.Len) + uint64(int64(rel))
				if target < entry || target >= end {
					s.TailJumps = append(s.TailJumps, pc)
				}
			}
		}
		off += inst.Len
	}
	return s
}

// isStackGuardCmp reports whether inst compares against 16(R14), the
// stackguard0 field of the current g under the register ABI.
func isStackGuardCmp(inst x86asm.Inst) bool {
	if inst.Op != x86asm.CMP {
		return false
	}
	for _, a := range inst.Args {
		if m, ok := a.(x86asm.Mem); ok && m.Base == x86asm.R14 && m.Disp == 16 {
			return true
		}
	}
	return false
}

func isCondJump(op x86asm.Op) bool {
	switch op {
	case x86asm.JBE, x86asm.JB, x86asm.JA, x86asm.JAE, x86asm.JLE, x86asm.JL:
		return true
	}
	return false
}

// readCode returns the file's bytes at link-time addresses [lo, hi).
func readCode(ef *elf.File, lo, hi uint64) ([]byte, error) {
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 {
			continue
		}
		if lo >= p.Vaddr && hi <= p.Vaddr+p.Filesz && hi >= lo {
			buf := make([]byte, hi-lo)
			if _, err := p.ReadAt(buf, int64(lo-p.Vaddr)); err != nil {
				return nil, fmt.Errorf("reading code at %#x: %w", lo, err)
			}
			return buf, nil
		}
	}
	return nil, fmt.Errorf("code range [%#x, %#x) is not in an executable segment", lo, hi)
}

// FileOffset converts the run-time code address addr into the offset in the
// executable file that uprobes are attached by.
func FileOffset(bi *bininfo.BinaryInfo, addr uint64) (uint64, error) {
	link := addr - bi.Bias()
	for _, p := range bi.ELF().Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && link >= p.Vaddr && link < p.Vaddr+p.Filesz {
			return link - p.Vaddr + p.Off, nil
		}
	}
	return 0, fmt.Errorf("address %#x is not in an executable segment", addr)
}
