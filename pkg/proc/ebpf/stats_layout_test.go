package ebpf

import (
	"reflect"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestStatsLayoutMatchesBTF: the Go mirrors of the --stats map key and
// value have the C structs' fields, offsets and sizes.
func TestStatsLayoutMatchesBTF(t *testing.T) {
	spec, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	for cName, goVal := range map[string]any{"fn_stats": fnStats{}, "stats_key": statsKey{}} {
		var st *btf.Struct
		if err := spec.Types.TypeByName(cName, &st); err != nil {
			t.Fatalf("struct %s not in BTF: %v", cName, err)
		}
		gt := reflect.TypeOf(goVal)
		if uint32(gt.Size()) != st.Size || gt.NumField() != len(st.Members) {
			t.Fatalf("%s: Go size %d with %d fields, C size %d with %d", cName, gt.Size(), gt.NumField(), st.Size, len(st.Members))
		}
		for i, m := range st.Members {
			f := gt.Field(i)
			size, err := btf.Sizeof(m.Type)
			if err != nil {
				t.Fatal(err)
			}
			if uint32(f.Offset) != m.Offset.Bytes() || int(f.Type.Size()) != size || norm(f.Name) != norm(m.Name) {
				t.Errorf("%s.%s: C offset %d size %d; Go %s offset %d size %d", cName, m.Name, m.Offset.Bytes(), size, f.Name, f.Offset, f.Type.Size())
			}
		}
	}
	var en *btf.Enum
	if err := spec.Types.TypeByName("stats_limits", &en); err == nil {
		for _, v := range en.Values {
			if v.Name == "STATS_BUCKETS" && v.Value != statsBuckets {
				t.Errorf("STATS_BUCKETS %d, Go %d", v.Value, statsBuckets)
			}
		}
	}
}
