package ebpf

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// TestMapPlanLeavesBudget checks how the plan of go1.22 maps spends its
// operations: a map[string][]string alone gets its three overflow levels
// and its old buckets (34 operations), while with many such arguments the
// later ones get only their bucket array and first overflow level (10
// each), so that nine of them still fit without any being cut.
func TestMapPlanLeavesBudget(t *testing.T) {
	bi, err := bininfo.Open(fixture.Build(t, "allkinds", fixture.Flavour{Toolchain: "go1.22.12"}))
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	d, err := bi.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	typ, err := godwarf.New(d).ByName("map[string][]string")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ params, ops int }{{1, 34}, {2, 52}, {9, 122}} {
		var params []probe.Param
		var locs []probe.Location
		for i := 0; i < tc.params; i++ {
			params = append(params, probe.Param{Name: "m", Type: typ})
			locs = append(locs, probe.Location{StackOff: int64(8 * i)})
		}
		p := buildPlan(params, locs, withDefaults(Options{}))
		if int(p.bpf.NOps) != tc.ops {
			t.Errorf("%d maps: %d operations, want %d", tc.params, p.bpf.NOps, tc.ops)
		}
		for i, cut := range p.partial {
			if cut {
				t.Errorf("%d maps: map %d planned in part", tc.params, i)
			}
		}
	}
}
