package ebpf

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// layoutOf lays out the probes of main.leaf and of the inlined copies of
// the edge-case functions of _fixtures/inlinesites, and describes each
// address by the events it reports, in order.
func layoutOf(t *testing.T, fl fixture.Flavour) []string {
	t.Helper()
	bi, err := bininfo.Open(fixture.Build(t, "inlinesites", fl))
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	d, err := bi.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	tr := &Tracer{bi: bi, types: godwarf.New(d)}
	for _, fn := range lookupFuncs(t, bi, "main.leaf") {
		tf, err := tr.prepare(fn, DefaultOptions)
		if err != nil {
			t.Fatal(err)
		}
		tr.funcs = append(tr.funcs, tf)
	}
	frames, err := probe.LoadFrames(bi)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"main.clamp", "main.sumTo", "main.twice", "main.scale"} {
		insts, err := bi.InlinedInstances(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, inst := range insts {
			tf, err := tr.prepareInlined(frames, inst, DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			tr.funcs = append(tr.funcs, tf)
		}
	}
	if err := tr.layout(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range tr.cookies {
		tf := tr.funcs[c>>2]
		var evs []string
		for _, r := range tf.roles {
			if r == nil {
				continue
			}
			kind := "call"
			if r.ret {
				kind = "return"
			}
			evs = append(evs, kind+" "+tr.funcs[r.fn].name())
		}
		if tf.roles == [2]*role{} {
			evs = append(evs, fmt.Sprintf("%s kind %d", tf.name(), c&3))
		}
		out = append(out, strings.Join(evs, ", "))
	}
	return out
}

// TestInlinedLayout: every address reports its events in the order they
// happen, two at most through one slot: a copy nested at the start of its
// parent (twice, scale), one copy ending where the next begins, nested
// copies ending together, a copy ending at its frameless caller's RET
// (clamp in leaf), a copy never entered whose exit is reached from outside. Addresses as the running toolchain lays them out.
func TestInlinedLayout(t *testing.T) {
	want := []string{
		"main.leaf kind 0",
		"call main.clamp",
		"return main.clamp, return main.leaf",
		"call main.clamp",
		"return main.clamp",
		"call main.sumTo",
		"return main.sumTo",
		"call main.twice, call main.scale",
		"return main.scale, call main.scale",
		"return main.scale, return main.twice",
		"return main.twice",
		"call main.clamp",
		"return main.clamp", // also reached from outside the copy
	}
	for _, fl := range []fixture.Flavour{{Optimized: true}, {Optimized: true, PIE: true}} {
		if got := layoutOf(t, fl); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s", fl.Name(), strings.Join(got, "\n"))
		}
	}
}

// TestRegSlots: every general register a location may name has the
// pt_regs slot of the register of that name.
func TestRegSlots(t *testing.T) {
	ptRegs := []string{"R15", "R14", "R13", "R12", "RBP", "RBX", "R11", "R10", "R9", "R8", "RAX", "RCX", "RDX",
		"RSI", "RDI", "ORIG_RAX", "RIP", "CS", "FLAGS", "RSP", "SS"}
	if len(abiIntRegSlots) != len(probe.GeneralRegs) {
		t.Fatalf("%d slots for %d registers", len(abiIntRegSlots), len(probe.GeneralRegs))
	}
	for i, name := range probe.GeneralRegs {
		if got := ptRegs[abiIntRegSlots[i]]; got != name {
			t.Errorf("register %s in slot %d, which holds %s", name, abiIntRegSlots[i], got)
		}
	}
}
