package proc

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// callSite is one call instruction of a function.
type callSite struct {
	pc     uint64
	next   uint64 // the return address
	target uint64 // destination of a direct call; 0 when indirect
}

// readText reads code as the compiler wrote it: our int3 bytes are
// replaced by the original bytes they cover.
func (t *Target) readText(addr, n uint64) ([]byte, error) {
	buf := make([]byte, n)
	if _, err := t.proc.ReadMemory(buf, addr); err != nil {
		return nil, fmt.Errorf("reading code at %#x: %w", addr, err)
	}
	for pc, bp := range t.bps.phys {
		if pc >= addr && pc < addr+n {
			buf[pc-addr] = bp.orig
		}
	}
	return buf, nil
}

// calls decodes fn and returns its call instructions.
func (t *Target) calls(fn Func) ([]callSite, error) { return t.branches(fn, x86asm.CALL) }

// branches decodes fn and returns its instructions of kind op (CALL or
// JMP), with their direct targets.
func (t *Target) branches(fn Func, op x86asm.Op) ([]callSite, error) {
	if fn.End <= fn.Entry || fn.End-fn.Entry > 1<<20 {
		return nil, fmt.Errorf("function %s has a bad range [%#x, %#x)", fn.Name, fn.Entry, fn.End)
	}
	code, err := t.readText(fn.Entry, fn.End-fn.Entry)
	if err != nil {
		return nil, err
	}
	var out []callSite
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil || inst.Len == 0 {
			off++ // padding or data: resynchronise on the next byte
			continue
		}
		pc := fn.Entry + uint64(off)
		if inst.Op == op {
			c := callSite{pc: pc, next: pc + uint64(inst.Len)}
			if rel, ok := inst.Args[0].(x86asm.Rel); ok {
				c.target = uint64(int64(pc) + int64(inst.Len) + int64(rel))
			}
			out = append(out, c)
		}
		off += inst.Len
	}
	return out, nil
}

// callTargets returns the non-runtime functions fn calls directly.
func (t *Target) callTargets(fn Func) ([]Func, error) {
	calls, err := t.calls(fn)
	if err != nil {
		return nil, err
	}
	var out []Func
	for _, c := range calls {
		if c.target == 0 {
			continue
		}
		if f, ok := t.sym.PCToFunc(c.target); ok && f.Entry == c.target && !isRuntime(f.Name) {
			out = append(out, f)
		}
	}
	return out, nil
}
