// Package eval finds the variables visible in a stack frame and evaluates Go
// expressions over them, the way Delve's print, locals, args and set commands
// do. Values are read through the shared loader in package value, so the text
// users see is Delve's format byte for byte.
package eval

import (
	"fmt"
	"sync"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/dwarf/loclist"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// Program is the per-binary state evaluation needs: symbols, decoded types
// and location-list readers. Build one per executable and share it between
// scopes: its type cache is what makes repeated evaluation cheap.
type Program struct {
	BI    *bininfo.BinaryInfo // symbols, functions, lines and package variables
	Types *godwarf.Types      // the binary's Go types, decoded lazily and cached

	once     sync.Once
	loc4     *loclist.Dwarf4Reader
	loc5     *loclist.Dwarf5Reader
	debugAdr []byte

	closures closureCache
	setups   setupCache
}

// NewProgram prepares evaluation over the binary bi describes.
func NewProgram(bi *bininfo.BinaryInfo) (*Program, error) {
	d, err := bi.DWARF()
	if err != nil {
		return nil, fmt.Errorf("reading DWARF: %w", err)
	}
	return &Program{BI: bi, Types: godwarf.New(d)}, nil
}

// runtimeTypes returns the run-time address of runtime.types, which
// interface type words are relative to (0 when the symbol is missing).
func (p *Program) runtimeTypes() uint64 {
	if s, ok := p.BI.Symbol("runtime.types"); ok {
		return s.Addr
	}
	return 0
}

// RuntimeTypeAddr returns the run-time address of the descriptor of the
// type called name, as an interface's type word holds it.
func (p *Program) RuntimeTypeAddr(name string) (uint64, error) {
	typ, err := p.Types.ByName(name)
	if err != nil {
		return 0, err
	}
	rt, base := typ.Common().RuntimeType, p.runtimeTypes()
	if rt == 0 || base == 0 {
		return 0, fmt.Errorf("type %s has no runtime type descriptor", name)
	}
	return base + rt, nil
}

// Loader returns the value loader over mem with everything this binary
// knows: types, func names and closures, constants. Every value a debugger
// path shows (print, locals, vars) loads through it, so that they agree.
func (p *Program) Loader(mem value.MemoryReader) *value.Loader {
	return &value.Loader{Mem: mem, Types: p.Types, RuntimeTypes: p.runtimeTypes(), Funcs: p, Consts: p.Types}
}

// loclists opens the location-list sections lazily; a binary may have
// either, both (mixed DWARF versions) or none.
func (p *Program) loclists() (*loclist.Dwarf4Reader, *loclist.Dwarf5Reader, []byte) {
	p.once.Do(func() {
		if b, err := p.BI.Section(".debug_loc"); err == nil {
			p.loc4 = loclist.NewDwarf4Reader(b, p.BI.PtrSize())
		}
		addr, _ := p.BI.Section(".debug_addr")
		p.debugAdr = addr
		if b, err := p.BI.Section(".debug_loclists"); err == nil {
			p.loc5 = loclist.NewDwarf5Reader(b, addr, p.BI.PtrSize())
		}
	})
	return p.loc4, p.loc5, p.debugAdr
}

// FuncName implements value.FuncResolver so that func values print as
// Delve prints them (the function's name).
func (p *Program) FuncName(pc uint64) (string, bool) {
	if fn := p.BI.PCToFunc(pc); fn != nil {
		return fn.Name, true
	}
	if s, ok := p.BI.SymbolAt(pc); ok && s.Kind == bininfo.SymFunc {
		return s.Name, true
	}
	return "", false
}
