package proc

import (
	"encoding/binary"
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
	var out []callSite
	err := t.decode(fn, func(pc uint64, inst x86asm.Inst) {
		if inst.Op == op {
			c := callSite{pc: pc, next: pc + uint64(inst.Len)}
			if rel, ok := inst.Args[0].(x86asm.Rel); ok {
				c.target = uint64(int64(pc) + int64(inst.Len) + int64(rel))
			}
			out = append(out, c)
		}
	})
	return out, err
}

// decode calls each with every instruction of fn's code, as the compiler
// wrote it, in address order.
func (t *Target) decode(fn Func, each func(pc uint64, inst x86asm.Inst)) error {
	if fn.End <= fn.Entry || fn.End-fn.Entry > 1<<20 {
		return fmt.Errorf("function %s has a bad range [%#x, %#x)", fn.Name, fn.Entry, fn.End)
	}
	code, err := t.readText(fn.Entry, fn.End-fn.Entry)
	if err != nil {
		return err
	}
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil || inst.Len == 0 {
			off++ // padding or data: resynchronise on the next byte
			continue
		}
		each(fn.Entry+uint64(off), inst)
		off += inst.Len
	}
	return nil
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

// deferredDirect returns the functions fn defers without arguments (`defer
// tick()`): the compiler passes their static funcval (a RIP-relative LEAQ
// of a read-only word holding the function's entry) to
// runtime.deferprocStack or runtime.deferproc, and runtime.deferreturn
// then calls the function itself, with no deferwrap closure in between.
func (t *Target) deferredDirect(fn Func) ([]Func, error) {
	var out []Func
	var loaded []uint64 // funcval addresses loaded since the last call
	err := t.decode(fn, func(pc uint64, inst x86asm.Inst) {
		switch inst.Op {
		case x86asm.LEA:
			if m, ok := inst.Args[1].(x86asm.Mem); ok && m.Base == x86asm.RIP {
				loaded = append(loaded, uint64(int64(pc)+int64(inst.Len)+m.Disp))
			}
		case x86asm.CALL:
			rel, ok := inst.Args[0].(x86asm.Rel)
			callee, found := t.sym.PCToFunc(uint64(int64(pc) + int64(inst.Len) + int64(rel)))
			if ok && found && (callee.Name == "runtime.deferprocStack" || callee.Name == "runtime.deferproc") {
				for _, fv := range loaded {
					if f, ok := t.funcvalTarget(fv); ok {
						out = append(out, f)
					}
				}
			}
			loaded = loaded[:0]
		}
	})
	return out, err
}

// funcvalTarget reads the word at addr as a funcval's code pointer and
// returns the non-runtime function it enters, if it is one's entry.
func (t *Target) funcvalTarget(addr uint64) (Func, bool) {
	var b [8]byte
	if _, err := t.proc.ReadMemory(b[:], addr); err != nil {
		return Func{}, false
	}
	pc := binary.LittleEndian.Uint64(b[:])
	f, ok := t.sym.PCToFunc(pc)
	if !ok || f.Entry != pc || isRuntime(f.Name) || isWrapper(f.Name) {
		return Func{}, false
	}
	return f, true
}
