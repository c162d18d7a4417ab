package ebpf

import (
	"reflect"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

// An inlined copy whose first argument has no location and whose second
// is an int read from the stack: the plan is built for the int alone
// and must come out indexed by both. A trial on chi's longestPrefix saw
// the per-parameter marks left in the short order: the decoder asked for
// the second argument's mark and panicked (index out of range [1]).
func TestRenumberInlinedMovesEveryParameterMark(t *testing.T) {
	n := &godwarf.BasicType{CommonType: godwarf.CommonType{Name: "int", ByteSize: 8, GoKind: reflect.Int}, Kind: reflect.Int}
	args := []probe.Param{{Name: "root", Type: n}, {Name: "depth", Type: n}}
	argErr := []string{"split between places", ""}
	located := buildPlan(args[1:], []probe.Location{{StackOff: 24}}, Options{})
	if located.bpf.NOps == 0 {
		t.Fatal("no capture operation for an int on the stack")
	}
	located.partial[0] = true // as when the operation budget ran out
	plan := renumberInlined(located, args, argErr, []int{1})

	if want := []bool{false, true}; !reflect.DeepEqual(plan.partial, want) {
		t.Fatalf("partial %v, want %v", plan.partial, want)
	}
	if plan.params[0].unavailable != argErr[0] || plan.params[0].valueOp != -1 || plan.params[1].param.Name != "depth" {
		t.Fatalf("params %+v", plan.params)
	}
	for i := uint32(0); i < plan.bpf.NOps; i++ {
		if plan.bpf.Ops[i].Param != 1 {
			t.Fatalf("op %d reads parameter %d, want 1", i, plan.bpf.Ops[i].Param)
		}
	}
	var mem captured
	if err := parseSegments(nil, &plan, &mem); err != nil {
		t.Fatal(err)
	}
	if mem.params[0].cut || !mem.params[1].cut {
		t.Fatalf("truncated: root %v, depth %v; want false, true", mem.params[0].cut, mem.params[1].cut)
	}
}
