package probe

import (
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// FuncABI returns the calling convention fn's code follows. The compiler
// gives every Go function ABIInternal (Go 1.17+); assembly is ABI0 unless
// declared otherwise, and the linker names the ELF symbol of a function
// whose ABI is not its package's default with an ".abi0" suffix (the
// ABI0 wrappers of Go functions called from assembly too). ok is false
// when it cannot be told: no symbol at the entry, or an unknown Go version.
func FuncABI(bi *bininfo.BinaryInfo, fn *bininfo.Function) (abi ABI, ok bool) {
	minor := bi.GoMinor()
	switch {
	case minor == 0:
		return 0, false
	case minor < 17:
		return ABI0, true
	}
	sym, found := bi.SymbolAt(fn.Entry)
	if !found || sym.Addr != fn.Entry {
		return 0, false
	}
	if strings.HasSuffix(sym.Name, ".abi0") || strings.HasSuffix(fn.DeclFile, ".s") {
		return ABI0, true
	}
	return ABIInternal, true
}
