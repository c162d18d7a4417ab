package eval

import (
	"debug/dwarf"
	"sync"

	"github.com/tinydbg/tinydbg/pkg/dwarf/dwarfbuf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// dwOpFbreg is DW_OP_fbreg: a -N -l variable's one stack slot.
const dwOpFbreg = 0x91

// setupInfo is what a function's code does before its first statement:
// the stores into its frame, and up to where DX is its closure context.
type setupInfo struct {
	stores   []bininfo.SetupStore
	ctxUntil uint64 // last run-time address at which DX is still the context
}

type setupCache struct {
	mu    sync.Mutex
	funcs map[dwarf.Offset]setupInfo
}

func (p *Program) setupOf(fn *bininfo.Function) setupInfo {
	p.setups.mu.Lock()
	defer p.setups.mu.Unlock()
	if si, ok := p.setups.funcs[fn.Offset]; ok {
		return si
	}
	if p.setups.funcs == nil {
		p.setups.funcs = make(map[dwarf.Offset]setupInfo)
	}
	var si setupInfo
	si.stores, si.ctxUntil = p.BI.SetupStores(fn)
	p.setups.funcs[fn.Offset] = si
	return si
}

// markSetupStores finds the local variables whose stack slot the
// function's setup code writes (a -N -l closure copies its captured
// variables from the closure context there, after the breakpoint a
// `break` on it uses): until that store has run the slot holds whatever
// an earlier frame left, which must not be shown as the variable. A
// variable whose whole slot is copied from the context is read from the
// context while DX still holds it; this is how a Go < 1.23 closure's
// captured variables are found, which DWARF does not mark
// (DW_AT_go_closure_offset is Go 1.23's).
func (s *Scope) markSetupStores(v *varEntry) {
	if v.isArg || s.root != s.fn.Offset {
		return
	}
	f := v.entry.AttrField(dwarf.AttrLocation)
	if f == nil || (f.Class != dwarf.ClassExprLoc && f.Class != dwarf.ClassBlock) {
		return
	}
	expr, _ := f.Val.([]byte)
	if len(expr) < 2 || expr[0] != dwOpFbreg {
		return
	}
	slot, n, err := dwarfbuf.SLEB128(expr[1:])
	if err != nil || 1+n != len(expr) {
		return
	}
	typ, err := s.prog.Types.Type(v.typ)
	if err != nil {
		return
	}
	size := typ.Size()
	si := s.prog.setupOf(s.fn)
	var covered int64
	delta, copied := int64(0), true
	for _, st := range si.stores {
		if st.CFAOff >= slot+size || st.CFAOff+int64(st.Size) <= slot {
			continue
		}
		v.setupStore = max(v.setupStore, st.PC)
		if st.CtxOff < 0 || st.CFAOff < slot || st.CFAOff+int64(st.Size) > slot+size ||
			(covered > 0 && st.CtxOff-st.CFAOff != delta) {
			copied = false
			continue
		}
		delta = st.CtxOff - st.CFAOff
		covered += int64(st.Size)
	}
	if v.setupStore == 0 {
		return
	}
	v.ctxUntil = si.ctxUntil
	if copied && covered == size && !v.captured {
		v.captured, v.ctxOff = true, slot+delta
	}
}

// slotPending reports whether e's slot is written by setup code at or
// after the scope's PC, so that it does not hold the variable yet.
func (s *Scope) slotPending(e *varEntry) bool {
	return e.setupStore != 0 && s.pc >= s.fn.Entry && s.pc <= e.setupStore
}
