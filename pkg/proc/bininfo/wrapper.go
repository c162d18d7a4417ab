package bininfo

import (
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// Unwrap returns the function a compiler-made wrapper (DW_AT_trampoline,
// such as main.main.gowrap1 for `go worker(x)`) exists to call: the
// target of its first direct CALL that is not into the runtime's private
// functions (morestack, panics), as Delve does. A wrapper whose call was
// inlined has inlined code before its first CALL, whose target is then
// some callee of the wrapped body: it is returned as it is, as is anything
// else.
func (bi *BinaryInfo) Unwrap(fn *Function) *Function {
	if fn == nil || !fn.Trampoline || fn.End <= fn.Entry {
		return fn
	}
	bias := bi.Bias()
	lo := fn.Entry - bias
	code, err := bi.readCode(lo, int(fn.End-fn.Entry))
	if err != nil {
		return fn
	}
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			return fn
		}
		next := off + inst.Len
		if rel, ok := inst.Args[0].(x86asm.Rel); ok && inst.Op == x86asm.CALL {
			if bi.inlinedBefore(fn, lo+uint64(off)) {
				return fn
			}
			target := uint64(int64(lo) + int64(next) + int64(rel))
			if callee := bi.PCToFunc(target + bias); callee != nil && callee.Entry == target+bias && !privateRuntime(callee.Name) {
				return callee
			}
		}
		off = next
	}
	return fn
}

// privateRuntime reports an unexported function of package runtime.
func privateRuntime(name string) bool {
	rest, ok := strings.CutPrefix(name, "runtime.")
	return ok && rest != "" && !('A' <= rest[0] && rest[0] <= 'Z')
}

// inlinedBefore reports whether fn has inlined code below the link-time
// address addr.
func (bi *BinaryInfo) inlinedBefore(fn *Function, addr uint64) bool {
	roots, err := fn.inlineTree()
	if err != nil {
		return true
	}
	for _, n := range roots {
		for _, r := range n.call.Ranges {
			if r[0] < addr {
				return true
			}
		}
	}
	return false
}
