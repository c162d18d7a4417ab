package bininfo

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// Runtime is the layout of the Go runtime structures a debugger reads from
// a stopped process, as described by this binary's DWARF. Offsets are in
// bytes from the start of the struct; -1 marks a field this Go version lacks.
type Runtime struct {
	G     GLayout
	Gobuf GobufLayout
	M     MLayout
	// AllgsAddr is the run-time address of runtime.allgs (a []*g slice
	// header); AllglenAddr that of runtime.allglen (uintptr).
	AllgsAddr, AllglenAddr uint64
	// GTLSOffset is where the current g lives relative to FS_BASE
	// (-8 for both internally and externally linked binaries in practice).
	GTLSOffset int64
	// ABIInternal is true when Go functions use the register ABI (Go 1.17+):
	// arguments in IntArgRegs/FloatArgRegs and the current g in GRegister.
	ABIInternal bool
	GRegister   string // "R14" under ABIInternal, "" otherwise
	GDwarfReg   int    // DWARF number of GRegister, -1 otherwise
	// IntArgRegs and FloatArgRegs list the argument registers in assignment
	// order; the *DwarfRegs slices give their DWARF register numbers.
	IntArgRegs, FloatArgRegs           []string
	IntArgDwarfRegs, FloatArgDwarfRegs []int
}

// GLayout holds field offsets of runtime.g.
type GLayout struct {
	Size                     int64
	Goid, Sched, M           int64
	StackLo, StackHi         int64 // g.stack.lo and g.stack.hi
	Atomicstatus, Waitreason int64
	Gopc, Startpc            int64
	Panic, Defer, Labels     int64 // g._panic, g._defer, g.labels
}

// GobufLayout holds field offsets of runtime.gobuf (g.sched).
type GobufLayout struct {
	Size                 int64
	SP, PC, BP, LR, Ctxt int64
	G                    int64
}

// MLayout holds field offsets of runtime.m.
type MLayout struct {
	Size, Procid, Curg int64
}

// ErrNoRuntimeInfo is returned when the runtime's types are missing from DWARF.
var ErrNoRuntimeInfo = errors.New("runtime type information missing from DWARF")

// RuntimeLayout computes the runtime layout on first use and caches it;
// each call returns a fresh copy with the current load bias applied.
func (bi *BinaryInfo) RuntimeLayout() (*Runtime, error) {
	bi.rtOnce.Do(func() {
		bi.rt, bi.rtErr = bi.loadRuntime()
		if bi.rt != nil { // cache link-time addresses
			bias := bi.Bias()
			bi.rt.AllgsAddr -= bias
			bi.rt.AllglenAddr -= bias
		}
	})
	if bi.rtErr != nil {
		return nil, bi.rtErr
	}
	rt := *bi.rt
	rt.AllgsAddr += bi.Bias()
	rt.AllglenAddr += bi.Bias()
	return &rt, nil
}

type structInfo struct {
	size   int64
	fields map[string]int64
}

func (s structInfo) off(name string) int64 {
	if v, ok := s.fields[name]; ok {
		return v
	}
	return -1
}

func (bi *BinaryInfo) loadRuntime() (*Runtime, error) {
	want := []string{"runtime.g", "runtime.gobuf", "runtime.stack", "runtime.m"}
	structs, err := bi.findStructs(want)
	if err != nil {
		return nil, err
	}
	for _, w := range want {
		if _, ok := structs[w]; !ok {
			return nil, fmt.Errorf("%s: %w", w, ErrNoRuntimeInfo)
		}
	}
	g, buf, stk, m := structs["runtime.g"], structs["runtime.gobuf"], structs["runtime.stack"], structs["runtime.m"]
	rt := &Runtime{}
	rt.G = GLayout{
		Size: g.size, Goid: g.off("goid"), Sched: g.off("sched"), M: g.off("m"),
		Atomicstatus: g.off("atomicstatus"), Waitreason: g.off("waitreason"),
		Gopc: g.off("gopc"), Startpc: g.off("startpc"),
		Panic: g.off("_panic"), Defer: g.off("_defer"), Labels: g.off("labels"),
		StackLo: -1, StackHi: -1,
	}
	if s := g.off("stack"); s >= 0 && stk.off("lo") >= 0 && stk.off("hi") >= 0 {
		rt.G.StackLo, rt.G.StackHi = s+stk.off("lo"), s+stk.off("hi")
	}
	rt.Gobuf = GobufLayout{Size: buf.size, SP: buf.off("sp"), PC: buf.off("pc"), BP: buf.off("bp"),
		LR: buf.off("lr"), Ctxt: buf.off("ctxt"), G: buf.off("g")}
	rt.M = MLayout{Size: m.size, Procid: m.off("procid"), Curg: m.off("curg")}
	for name, v := range map[string]int64{"g.goid": rt.G.Goid, "g.sched": rt.G.Sched, "g.stack": rt.G.StackLo,
		"g.m": rt.G.M, "g.atomicstatus": rt.G.Atomicstatus, "gobuf.sp": rt.Gobuf.SP, "gobuf.pc": rt.Gobuf.PC} {
		if v < 0 {
			return nil, fmt.Errorf("runtime.%s: %w", name, ErrNoRuntimeInfo)
		}
	}
	for _, v := range []struct {
		name string
		dst  *uint64
	}{{"runtime.allgs", &rt.AllgsAddr}, {"runtime.allglen", &rt.AllglenAddr}} {
		if pv, err := bi.LookupPackageVar(v.name); err == nil {
			*v.dst = pv.Addr
		} else if sym, ok := bi.Symbol(v.name); ok {
			*v.dst = sym.Addr
		} else {
			return nil, fmt.Errorf("%s: %w", v.name, ErrNoRuntimeInfo)
		}
	}
	rt.GTLSOffset = bi.gTLSOffset()
	rt.GDwarfReg = -1
	producer := ""
	if cu := bi.CompileUnitByName("runtime"); cu != nil {
		producer = cu.Producer
	}
	if strings.Contains(producer, "regabi") || bi.GoMinor() >= 17 {
		rt.ABIInternal = true
		rt.GRegister, rt.GDwarfReg = "R14", 14
		rt.IntArgRegs = []string{"RAX", "RBX", "RCX", "RDI", "RSI", "R8", "R9", "R10", "R11"}
		rt.IntArgDwarfRegs = []int{0, 3, 2, 5, 4, 8, 9, 10, 11}
		for i := 0; i < 15; i++ {
			rt.FloatArgRegs = append(rt.FloatArgRegs, fmt.Sprintf("X%d", i))
			rt.FloatArgDwarfRegs = append(rt.FloatArgDwarfRegs, 17+i)
		}
	}
	return rt, nil
}

// gTLSOffset derives g's offset from the thread pointer. On x86-64 (TLS
// variant II) the executable's TLS block ends at FS_BASE, so a TLS variable
// at offset v of the block lives at v - roundup(memsz, align). runtime.tlsg
// (present with external linking) gives v; internal linking omits the
// symbol and puts g at the start of the block.
func (bi *BinaryInfo) gTLSOffset() int64 {
	var v uint64
	if sym, ok := bi.Symbol("runtime.tlsg"); ok && sym.Kind == SymTLS {
		v = sym.Addr
	}
	for _, p := range bi.elf.Progs {
		if p.Type != elf.PT_TLS {
			continue
		}
		align := p.Align
		if align == 0 {
			align = 1
		}
		size := (p.Memsz + align - 1) &^ (align - 1)
		return int64(v) - int64(size)
	}
	return -8
}

// findStructs returns the members of the named struct types. It walks the
// children of the "runtime" unit, where the linker puts runtime types, and
// only falls back to the other units if something is still missing.
func (bi *BinaryInfo) findStructs(names []string) (map[string]structInfo, error) {
	d, err := bi.DWARF()
	if err != nil {
		return nil, err
	}
	units, err := bi.CompileUnits()
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	found := map[string]structInfo{}
	rt := bi.CompileUnitByName("runtime")
	order := make([]*CompileUnit, 0, len(units))
	if rt != nil {
		order = append(order, rt)
	}
	for _, cu := range units {
		if cu != rt {
			order = append(order, cu)
		}
	}
	for _, cu := range order {
		if len(found) == len(want) {
			break
		}
		if err := scanStructs(d, cu, want, found); err != nil {
			return nil, err
		}
	}
	return found, nil
}

func scanStructs(d *dwarf.Data, cu *CompileUnit, want map[string]bool, found map[string]structInfo) error {
	r := d.Reader()
	r.Seek(cu.Offset)
	if _, err := r.Next(); err != nil {
		return fmt.Errorf("reading unit %s: %w", cu.Name, err)
	}
	for len(found) < len(want) {
		e, err := r.Next()
		if err != nil {
			return fmt.Errorf("reading types of %s: %w", cu.Name, err)
		}
		if e == nil || e.Tag == 0 {
			return nil
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if e.Tag != dwarf.TagStructType || !want[name] || !e.Children {
			r.SkipChildren()
			continue
		}
		if _, dup := found[name]; dup {
			r.SkipChildren()
			continue
		}
		size, _ := e.Val(dwarf.AttrByteSize).(int64)
		si := structInfo{size: size, fields: map[string]int64{}}
		for {
			m, err := r.Next()
			if err != nil {
				return fmt.Errorf("reading members of %s: %w", name, err)
			}
			if m == nil || m.Tag == 0 {
				break
			}
			if m.Tag == dwarf.TagMember {
				if fname, ok := m.Val(dwarf.AttrName).(string); ok {
					if off, ok := godwarf.MemberOffset(m); ok {
						si.fields[fname] = off
					}
				}
			}
			r.SkipChildren()
		}
		found[name] = si
	}
	return nil
}
