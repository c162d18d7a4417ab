package ebpf

import (
	"reflect"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/tinydbg/tinydbg/pkg/proc/event"
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
	if err := spec.Types.TypeByName("stats_limits", &en); err != nil {
		t.Fatalf("enum stats_limits not in BTF: %v", err)
	}
	got := map[string]uint64{}
	for _, v := range en.Values {
		got[v.Name] = v.Value
	}
	want := map[string]uint64{"STATS_BUCKETS": statsBuckets, "STATS_EXACT": 16, "STATS_SUB_BITS": 3, "STATS_OPEN": statsOpen}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats_limits: C has %v, Go mirrors %v", got, want)
	}
	// The kernel's bucket of a latency is event.BucketOf's: both split
	// at STATS_EXACT into 1 << STATS_SUB_BITS buckets per power of two.
	if event.BucketOf(15) != 15 || event.BucketOf(16) != 16 || event.BucketOf(1<<20) != 16+(20-4)<<3 {
		t.Errorf("event.BucketOf does not split as bpf/stats.h's stats_bucket")
	}
}
