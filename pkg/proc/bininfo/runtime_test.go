package bininfo

import (
	"debug/dwarf"
	"debug/elf"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// structFields reads a struct's field offsets with debug/dwarf's own type
// parser, independently of the member walk RuntimeLayout uses.
func structFields(t *testing.T, bi *BinaryInfo, name string) (int64, map[string]int64) {
	t.Helper()
	d, err := bi.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			t.Fatalf("struct %s not found (%v)", name, err)
		}
		if e.Tag == dwarf.TagStructType && e.Val(dwarf.AttrName) == name {
			typ, err := d.Type(e.Offset)
			if err != nil {
				t.Fatal(err)
			}
			st := typ.(*dwarf.StructType)
			out := map[string]int64{}
			for _, f := range st.Field {
				out[f.Name] = f.ByteOffset
			}
			return st.ByteSize, out
		}
		if e.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
		}
	}
}

func checkRuntimeAgainstTypes(t *testing.T, bi *BinaryInfo, rt *Runtime) {
	t.Helper()
	gsize, g := structFields(t, bi, "runtime.g")
	_, buf := structFields(t, bi, "runtime.gobuf")
	_, stk := structFields(t, bi, "runtime.stack")
	_, m := structFields(t, bi, "runtime.m")
	if rt.G.Goid <= 0 || rt.G.Goid != g["goid"] || rt.G.Size != gsize {
		t.Errorf("g.goid at %d (size %d), DWARF type says %d (size %d)", rt.G.Goid, rt.G.Size, g["goid"], gsize)
	}
	for name, got := range map[string]int64{"sched": rt.G.Sched, "m": rt.G.M, "atomicstatus": rt.G.Atomicstatus,
		"waitreason": rt.G.Waitreason, "gopc": rt.G.Gopc, "startpc": rt.G.Startpc, "_panic": rt.G.Panic, "_defer": rt.G.Defer} {
		if want, ok := g[name]; !ok || got != want {
			t.Errorf("g.%s at %d, DWARF type says %d (present %v)", name, got, want, ok)
		}
	}
	if want, ok := g["labels"]; ok && rt.G.Labels != want || !ok && rt.G.Labels != -1 {
		t.Errorf("g.labels at %d, DWARF type says %d (present %v)", rt.G.Labels, want, ok)
	}
	if rt.G.StackLo != g["stack"]+stk["lo"] || rt.G.StackHi != g["stack"]+stk["hi"] || rt.G.StackHi != rt.G.StackLo+8 {
		t.Errorf("g.stack lo/hi at %d/%d", rt.G.StackLo, rt.G.StackHi)
	}
	if rt.Gobuf.SP != buf["sp"] || rt.Gobuf.PC != buf["pc"] || rt.Gobuf.BP != buf["bp"] || rt.Gobuf.Ctxt != buf["ctxt"] || rt.Gobuf.SP != 0 {
		t.Errorf("gobuf layout %+v, DWARF type says %v", rt.Gobuf, buf)
	}
	if rt.M.Procid != m["procid"] || rt.M.Curg != m["curg"] || rt.M.Curg <= 0 {
		t.Errorf("m layout %+v, DWARF type says procid %d curg %d", rt.M, m["procid"], m["curg"])
	}
	for name, addr := range map[string]uint64{"runtime.allgs": rt.AllgsAddr, "runtime.allglen": rt.AllglenAddr} {
		sym, ok := bi.Symbol(name)
		if !ok || addr == 0 || sym.Addr != addr {
			t.Errorf("%s at %#x, symbol %+v", name, addr, sym)
		}
	}
	if rt.GTLSOffset != -8 {
		t.Errorf("GTLSOffset = %d, want -8", rt.GTLSOffset)
	}
	if !rt.ABIInternal || rt.GRegister != "R14" || rt.GDwarfReg != 14 || len(rt.IntArgRegs) != 9 ||
		rt.IntArgRegs[1] != "RBX" || rt.IntArgDwarfRegs[1] != 3 || len(rt.FloatArgRegs) != 15 || rt.FloatArgDwarfRegs[14] != 31 {
		t.Errorf("ABI description %+v", rt)
	}
}

func TestRuntimeLayout(t *testing.T) {
	for _, f := range allFlavours {
		t.Run(f.Name(), func(t *testing.T) {
			bi := openFixture(t, "goroutines", f)
			if f.PIE {
				bi.SetLoadBias(0x7f0000000000)
			}
			rt, err := bi.RuntimeLayout()
			if err != nil {
				t.Fatal(err)
			}
			checkRuntimeAgainstTypes(t, bi, rt)
			// A bias set after the first call still applies.
			bi.SetLoadBias(bi.Bias() + 0x1000)
			rt2, err := bi.RuntimeLayout()
			if err != nil || rt2.AllgsAddr != rt.AllgsAddr+0x1000 || rt2.AllglenAddr != rt.AllglenAddr+0x1000 {
				t.Errorf("after rebias: allgs %#x -> %#x, %v", rt.AllgsAddr, rt2.AllgsAddr, err)
			}
		})
	}
}

// TestRuntimeLayoutExternalLinking covers a cgo binary, where the system
// linker lays out TLS and runtime.tlsg is a real TLS symbol.
func TestRuntimeLayoutExternalLinking(t *testing.T) {
	bi := openFixture(t, "cgolink", fixture.Flavour{})
	if _, ok := bi.Symbol("runtime.tlsg"); !ok {
		t.Fatal("cgo binary has no runtime.tlsg; not externally linked?")
	}
	hasInterp := false
	for _, p := range bi.ELF().Progs {
		hasInterp = hasInterp || p.Type == elf.PT_INTERP
	}
	if !hasInterp {
		t.Fatal("cgo binary has no PT_INTERP; not externally linked?")
	}
	rt, err := bi.RuntimeLayout()
	if err != nil {
		t.Fatal(err)
	}
	checkRuntimeAgainstTypes(t, bi, rt)
}
