package trace

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// param is one argument or result of a traced function with the place the
// register ABI gives it at the entry probe (arguments) or a RET (results).
type param struct {
	name   string
	typ    godwarf.Type
	result bool
	loc    abiLoc
}

// abiLoc is where a value is at a probe: in registers (pieces) or on the
// stack at CFA+stackOff. Floats live in X registers, which ptrace's
// general register set does not carry, so such values are unavailable.
type abiLoc struct {
	inRegs   bool
	pieces   []regPiece
	stackOff int64
	float    bool
}

// regPiece is one register holding bytes [off, off+size) of a value.
type regPiece struct {
	reg       int // index into the integer argument registers
	off, size int64
	float     bool
}

// readParams lists the formal parameters of the subprogram at off in
// declaration order (the compiler emits arguments before results) and
// assigns them their ABI locations. Names and types of an inlinable
// function's out-of-line copy are on its abstract origin.
func readParams(d *dwarf.Data, types *godwarf.Types, off dwarf.Offset) (args, results []param, err error) {
	r := d.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil {
		return nil, nil, fmt.Errorf("reading subprogram at %#x: %v", off, err)
	}
	if !e.Children {
		return nil, nil, nil
	}
	for {
		c, err := r.Next()
		if err != nil {
			return nil, nil, fmt.Errorf("reading parameters of subprogram at %#x: %w", off, err)
		}
		if c == nil || c.Tag == 0 {
			break
		}
		if c.Tag != dwarf.TagFormalParameter {
			if c.Children {
				r.SkipChildren()
			}
			continue
		}
		attrs := c
		if ao, ok := c.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); ok {
			ar := d.Reader()
			ar.Seek(ao)
			if a, err := ar.Next(); err == nil && a != nil {
				attrs = a
			}
		}
		var p param
		p.name, _ = attrs.Val(dwarf.AttrName).(string)
		p.result, _ = attrs.Val(dwarf.AttrVarParam).(bool)
		toff, ok := attrs.Val(dwarf.AttrType).(dwarf.Offset)
		if !ok {
			return nil, nil, fmt.Errorf("parameter %s of subprogram at %#x has no type", p.name, off)
		}
		if p.typ, err = types.Type(toff); err != nil {
			return nil, nil, fmt.Errorf("type of parameter %s: %w", p.name, err)
		}
		if p.result {
			results = append(results, p)
		} else {
			args = append(args, p)
		}
	}
	// Results are assigned after the arguments: registers restart from
	// the first, the stack area continues past the arguments' one.
	var a assigner
	for i := range args {
		args[i].loc = a.assign(args[i].typ)
	}
	a.stack = (a.stack + 7) &^ 7
	a.ints, a.floats = 0, 0
	for i := range results {
		results[i].loc = a.assign(results[i].typ)
	}
	return args, results, nil
}

// Go's internal ABI on amd64 has 9 integer and 15 floating-point argument
// registers.
const (
	numIntRegs   = 9
	numFloatRegs = 15
)

// intReg returns integer argument register i: RAX, RBX, RCX, RDI, RSI, R8,
// R9, R10, R11 in assignment order.
func intReg(r *arch.Registers, i int) uint64 {
	return [numIntRegs]uint64{r.Rax, r.Rbx, r.Rcx, r.Rdi, r.Rsi, r.R8, r.R9, r.R10, r.R11}[i]
}

// assigner follows the ABI's register-then-stack assignment.
type assigner struct {
	ints, floats int
	stack        int64
	pieces       []regPiece
}

func (a *assigner) assign(t godwarf.Type) abiLoc {
	ints, floats := a.ints, a.floats
	a.pieces = nil
	if a.regs(t, 0) {
		loc := abiLoc{inRegs: true, pieces: a.pieces}
		for _, p := range a.pieces {
			loc.float = loc.float || p.float
		}
		return loc
	}
	// A value that does not fit in the remaining registers goes whole to
	// the stack, and the registers it would have used stay free.
	a.ints, a.floats = ints, floats
	al := alignOf(t)
	a.stack = (a.stack + al - 1) / al * al
	loc := abiLoc{stackOff: a.stack}
	a.stack += t.Size()
	return loc
}

func (a *assigner) reg(off, size int64, float bool) bool {
	if float {
		if a.floats >= numFloatRegs {
			return false
		}
		a.pieces = append(a.pieces, regPiece{reg: a.floats, off: off, size: size, float: true})
		a.floats++
		return true
	}
	if a.ints >= numIntRegs {
		return false
	}
	a.pieces = append(a.pieces, regPiece{reg: a.ints, off: off, size: size})
	a.ints++
	return true
}

func (a *assigner) regs(t godwarf.Type, off int64) bool {
	switch rt := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.BasicType:
		switch rt.Kind {
		case reflect.Float32, reflect.Float64:
			return a.reg(off, rt.Size(), true)
		case reflect.Complex64, reflect.Complex128:
			h := rt.Size() / 2
			return a.reg(off, h, true) && a.reg(off+h, h, true)
		}
		return a.reg(off, rt.Size(), false)
	case *godwarf.PtrType, *godwarf.MapType, *godwarf.ChanType, *godwarf.FuncType:
		return a.reg(off, 8, false)
	case *godwarf.StringType, *godwarf.InterfaceType:
		return a.reg(off, 8, false) && a.reg(off+8, 8, false)
	case *godwarf.SliceType:
		return a.reg(off, 8, false) && a.reg(off+8, 8, false) && a.reg(off+16, 8, false)
	case *godwarf.StructType:
		for _, f := range rt.Fields {
			if !a.regs(f.Type, off+f.ByteOffset) {
				return false
			}
		}
		return true
	case *godwarf.ArrayType:
		switch rt.Count {
		case 0:
			return true
		case 1:
			return a.regs(rt.Elem, off)
		}
		return false
	}
	return false
}

// alignOf is a type's alignment on amd64.
func alignOf(t godwarf.Type) int64 {
	switch rt := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.BasicType:
		switch {
		case rt.Kind == reflect.Complex64:
			return 4
		case rt.Size() >= 8:
			return 8
		case rt.Size() > 0:
			return rt.Size()
		}
		return 1
	case *godwarf.StructType:
		al := int64(1)
		for _, f := range rt.Fields {
			al = max(al, alignOf(f.Type))
		}
		return al
	case *godwarf.ArrayType:
		return alignOf(rt.Elem)
	}
	return 8
}

// regBase is where values assembled from registers are shown to the
// loader: a non-canonical address that no pointer of the program can hold.
const regBase = 0xfff0_0000_0000_0000

// regMemory overlays register-assembled values on the process memory, so
// the shared loader reads them like any value in memory.
type regMemory struct {
	slots [][]byte // slot i lives at regBase + i<<12
	mem   value.MemoryReader
}

// ReadMemory implements value.MemoryReader.
func (m *regMemory) ReadMemory(buf []byte, addr uint64) (int, error) {
	if addr >= regBase {
		i, off := (addr-regBase)>>12, (addr-regBase)&0xfff
		if i < uint64(len(m.slots)) && off+uint64(len(buf)) <= uint64(len(m.slots[i])) {
			return copy(buf, m.slots[i][off:]), nil
		}
		return 0, fmt.Errorf("%d bytes at %#x are outside the register values", len(buf), addr)
	}
	return m.mem.ReadMemory(buf, addr)
}

// place returns the address the loader should read p from: a slot filled
// from the registers, or the stack above cfa.
func (m *regMemory) place(p *param, regs *arch.Registers, cfa uint64) (uint64, error) {
	if !p.loc.inRegs {
		return cfa + uint64(p.loc.stackOff), nil
	}
	if p.loc.float {
		return 0, fmt.Errorf("held in a floating-point register, which ptrace tracing does not read")
	}
	buf := make([]byte, max(p.typ.Size(), 8))
	for _, pc := range p.loc.pieces {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], intReg(regs, pc.reg))
		copy(buf[pc.off:pc.off+pc.size], w[:pc.size])
	}
	m.slots = append(m.slots, buf)
	return regBase + uint64(len(m.slots)-1)<<12, nil
}
