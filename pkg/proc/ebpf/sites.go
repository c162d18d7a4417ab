package ebpf

import (
	"debug/elf"
	"fmt"

	"golang.org/x/arch/x86/x86asm"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// probeSites are where one function is probed, as link-time addresses.
type probeSites struct {
	entry uint64   // just past the stack-growth check
	rets  []uint64 // every RET instruction of the body
}

// codeReader reads the executable's code at link-time addresses.
type codeReader struct {
	progs []*elf.Prog // executable PT_LOAD segments
}

func newCodeReader(ef *elf.File) *codeReader {
	cr := &codeReader{}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			cr.progs = append(cr.progs, p)
		}
	}
	return cr
}

// fileOffset converts a link-time code address into the file offset that
// uprobes are attached by.
func (cr *codeReader) fileOffset(addr uint64) (uint64, error) {
	for _, p := range cr.progs {
		if addr >= p.Vaddr && addr < p.Vaddr+p.Filesz {
			return addr - p.Vaddr + p.Off, nil
		}
	}
	return 0, fmt.Errorf("address %#x is not in an executable segment", addr)
}

// read returns the code bytes [lo, hi).
func (cr *codeReader) read(lo, hi uint64) ([]byte, error) {
	for _, p := range cr.progs {
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

// findSites decodes fn's machine code. The entry probe goes right after the
// stack-growth check (CMP against g.stackguard0 at 16(R14), then a
// conditional jump to the morestack call): when the stack grows, morestack
// jumps back to the function's first instruction, so a probe before the
// check would report the call twice. Placing it before the frame setup
// (PUSHQ BP; SUBQ $n, SP) keeps CFA = SP+8 at both probe kinds and leaves
// every argument register untouched. Return probes go on each RET; Go never
// uses uretprobes because moving stacks break their return-address trick.
func findSites(cr *codeReader, fn *bininfo.Function, bias uint64) (probeSites, error) {
	lo, hi := fn.Entry-bias, fn.End-bias
	code, err := cr.read(lo, hi)
	if err != nil {
		return probeSites{}, fmt.Errorf("%s: %w", fn.Name, err)
	}
	sites := probeSites{entry: lo}
	sawCheck := false
	for off, n := 0, 0; off < len(code); n++ {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			// Undecodable bytes (padding after the last instruction) end
			// the body; a RET cannot hide past them in Go's code layout.
			break
		}
		if n < 4 && !sawCheck && isStackGuardCmp(inst) {
			sawCheck = true
		} else if n < 5 && sawCheck && sites.entry == lo && isCondJump(inst.Op) {
			sites.entry = lo + uint64(off+inst.Len)
		}
		if inst.Op == x86asm.RET {
			sites.rets = append(sites.rets, lo+uint64(off))
		}
		off += inst.Len
	}
	return sites, nil
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
