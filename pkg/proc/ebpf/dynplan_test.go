package ebpf

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// TestDynPlansCoverServerTypes checks that the dynamic-type table of a
// net/http server has a plan for *net/http.response (what a
// ResponseWriter holds) at each level depth 1 loads interface data at,
// keyed by the descriptor's address, and that the plan fits its budget.
func TestDynPlansCoverServerTypes(t *testing.T) {
	bi, err := bininfo.Open(fixture.Build(t, "httpserve", fixture.Flavour{Optimized: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	d, err := bi.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	tr := &Tracer{types: godwarf.New(d)}
	s, ok := bi.Symbol("runtime.types")
	if !ok {
		t.Fatal("no runtime.types")
	}
	tr.rtypes = s.Addr
	// No interface in any plan: no dynamic type's plan is needed.
	if dt, err := tr.buildDynPlans(withDefaults(Options{})); err != nil || len(dt.plans) != 0 {
		t.Fatalf("without interfaces: %d plans, %v", len(dt.plans), err)
	}
	iface := &tracedFunc{}
	iface.entry.bpf.NOps = 1
	iface.entry.bpf.Ops[0].Kind = opIface
	tr.funcs = []*tracedFunc{{}, iface}
	dt, err := tr.buildDynPlans(withDefaults(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	// Types of one shape share a plan: no two plans are equal, every key
	// names one, and there are fewer plans than keys.
	distinct := map[dynPlan]bool{}
	for _, p := range dt.plans {
		if distinct[p] {
			t.Fatalf("a plan of %d operations is in the table twice", p.NOps)
		}
		distinct[p] = true
	}
	for _, i := range dt.index {
		if int(i) >= len(dt.plans) {
			t.Fatalf("index %d, %d plans", i, len(dt.plans))
		}
	}
	if len(dt.keys) != len(dt.index) || len(dt.plans)*2 > len(dt.keys) {
		t.Errorf("%d keys, %d indexes, %d plans: want a plan shared by two keys or more on average", len(dt.keys), len(dt.index), len(dt.plans))
	}
	offs, err := tr.types.RuntimeTypeOffsets()
	if err != nil {
		t.Fatal(err)
	}
	var addr uint64
	for _, off := range offs {
		if typ, err := tr.types.ByRuntimeType(off); err == nil && value.TypeName(typ) == "*net/http.response" {
			addr = s.Addr + off
		}
	}
	if addr == 0 {
		t.Fatal("*net/http.response has no runtime type")
	}
	for level := uint64(0); level <= 1; level++ {
		found := false
		for i, k := range dt.keys {
			if k == addr|level<<56 {
				found = true
				if p := dt.plans[dt.index[i]]; p.NOps == 0 || p.NOps >= maxDynOps {
					t.Errorf("level %d: plan of %d operations", level, p.NOps)
				}
			}
		}
		if !found {
			t.Errorf("no plan for *net/http.response at level %d among %d", level, len(dt.keys))
		}
	}
}
