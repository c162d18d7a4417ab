package ebpf

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestLayoutMatchesBTF proves every Go mirror has the same fields, offsets
// and sizes as the C struct compiled into the embedded object, so a change
// on one side without the other fails here rather than corrupting events.
func TestLayoutMatchesBTF(t *testing.T) {
	spec, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		cName string
		goVal any
	}{
		{"config", bpfConfig{}},
		{"hold_state", holdState{}},
		{"cap_op", capOp{}},
		{"plan", bpfPlan{}},
		{"dyn_plan", dynPlan{}},
		{"event_header", eventHeader{}},
		{"segment", segmentHeader{}},
	}
	for _, c := range cases {
		var st *btf.Struct
		if err := spec.Types.TypeByName(c.cName, &st); err != nil {
			t.Errorf("struct %s not in BTF: %v", c.cName, err)
			continue
		}
		gt := reflect.TypeOf(c.goVal)
		if uint32(gt.Size()) != st.Size {
			t.Errorf("%s: Go size %d, C size %d", c.cName, gt.Size(), st.Size)
		}
		if gt.NumField() != len(st.Members) {
			t.Errorf("%s: Go has %d fields, C has %d", c.cName, gt.NumField(), len(st.Members))
			continue
		}
		for i, m := range st.Members {
			f := gt.Field(i)
			size, err := btf.Sizeof(m.Type)
			if err != nil {
				t.Fatalf("%s.%s: %v", c.cName, m.Name, err)
			}
			if uint32(f.Offset) != m.Offset.Bytes() || int(f.Type.Size()) != size {
				t.Errorf("%s.%s: C offset %d size %d; Go %s offset %d size %d",
					c.cName, m.Name, m.Offset.Bytes(), size, f.Name, f.Offset, f.Type.Size())
			}
			if norm(f.Name) != norm(m.Name) {
				t.Errorf("%s field %d: C name %s, Go name %s", c.cName, i, m.Name, f.Name)
			}
		}
	}
}

// norm makes snake_case and CamelCase names comparable.
func norm(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// TestConstantsMatchBTF proves every constant abi.go mirrors has the value
// of its C enumerator, and that the C enums hold nothing Go lacks: a new
// drop reason, flag or kind on the BPF side fails here until Go knows it.
func TestConstantsMatchBTF(t *testing.T) {
	spec, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]uint64{
		"limits": {"MAX_OPS": maxOps, "MAX_PIECES": maxPieces, "MAX_VALUE": maxValue,
			"MAX_DATA": maxData, "MAX_SEG": maxSeg, "MAX_SEGS": maxSegs, "MAX_STEPS": maxSteps, "MAX_DYN_OPS": maxDynOps, "MAX_JOBS": maxJobs, "MAX_ALL_OPS": maxAllOps,
			"ROOT_SRC": rootSrc, "NO_LEN_OFFSET": noLenOffset, "PIECE_STACK": pieceStack},
		"op_kind":    {"OP_REGS": opRegs, "OP_STACK": opStack, "OP_DEREF": opDeref, "OP_IFACE": opIface},
		"ev_kind":    {"EV_CALL": evCall, "EV_RETURN": evReturn},
		"len_kind":   {"LEN_COUNT": lenCount, "LEN_LOG2": lenLog2, "LEN_MASK": lenMask},
		"probe_kind": {"PROBE_CALL": probeCall, "PROBE_RETURN": probeReturn, "PROBE_BOTH": probeBoth, "PROBE_TAIL": probeTail},
		"ev_flags":   {"EVF_TRUNCATED": evfTruncated, "EVF_TAIL": evfTail},
		"seg_flags":  {"SEGF_NIL": segfNil, "SEGF_UNREADABLE": segfUnread, "SEGF_BAD_SOURCE": segfBadSource},
		// Each slot but NUM_DROPS is a field of Drops, read by statsLocked.
		"drop_slot": {"DROP_RINGBUF": dropRingbuf, "DROP_NO_PLAN": dropNoPlan, "NUM_DROPS": numDrops},
	}
	for name, consts := range want {
		var en *btf.Enum
		if err := spec.Types.TypeByName(name, &en); err != nil {
			t.Errorf("enum %s not in BTF: %v", name, err)
			continue
		}
		got := map[string]uint64{}
		for _, v := range en.Values {
			got[v.Name] = v.Value
		}
		if !reflect.DeepEqual(got, consts) {
			t.Errorf("enum %s: C has %v, Go mirrors %v", name, got, consts)
		}
	}
}
