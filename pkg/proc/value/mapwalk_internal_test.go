package value

import (
	"debug/elf"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
)

// pattern is a memory made of one block repeated over the whole address
// space: every pointer leads somewhere and every length is what the
// bytes say, the worst a corrupt process can present.
type pattern []byte

func (p pattern) ReadMemory(buf []byte, addr uint64) (int, error) {
	for i := range buf {
		buf[i] = p[(addr+uint64(i))%uint64(len(p))]
	}
	return len(buf), nil
}

// TestCorruptMapBounded is the regression test for a fuzz finding: a
// map[any]int over the pattern below (dirLen 0xffffff in a Swiss map)
// took seconds because directory entries repeating a table were free.
// The assertions count reads, not time, so they hold on any machine.
func TestCorruptMapBounded(t *testing.T) {
	swissBug := pattern{0x20, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0}
	// For hash maps: count 32, B 20 (a million buckets), growing.
	hashBug := pattern{0x20, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0}
	for _, c := range []struct {
		toolchain string
		mem       pattern
		want      string
		visits    int // buckets Load reads
	}{
		// The budget of the default configuration is spent, no more.
		{"", swissBug, "map[interface {}]int len 32, 0 entries", 6464},
		{"go1.24.13", swissBug, "map[interface {}]int len 32, 0 entries", 6464},
		// Four unreadable entries stop the load after the first bucket
		// holding them.
		{"go1.22.12", hashBug, "map[interface {}]int len 32, 4 entries" + strings.Repeat("; (unreadable could not resolve interface type: no runtime type information): 5120", 4), 5},
		{"go1.22.12", swissBug, "(unreadable malformed map: B=255)", 0},
	} {
		t.Run(c.toolchain, func(t *testing.T) {
			typ := scopesType(t, c.toolchain, "map[interface {}]int")
			l := &Loader{Mem: c.mem, Types: nil}
			st := &loadState{l: l, cfg: DefaultLoadConfig}
			v := st.newVariable("m", 0x1000, typ, l.Mem)
			start := time.Now()
			st.load(v, 0, l.Mem)
			got := mapSummary(v)
			if st.mapVisits != c.visits {
				t.Errorf("Load read %d buckets, want %d", st.mapVisits, c.visits)
			}
			if got != c.want {
				t.Errorf("Load: got %.300s, want %s", got, c.want)
			}
			calls := 0
			visits, err := l.mapEntries(0x1000, typ, func(k, v uint64) bool { calls++; return true })
			if err == nil || !strings.HasPrefix(err.Error(), "corrupt map") && !strings.HasPrefix(err.Error(), "malformed map") {
				t.Errorf("MapEntries: error %v, want a corrupt map", err)
			}
			if visits > 4*32+4096 || calls > 32 {
				t.Errorf("MapEntries: %d buckets, %d entries; want at most %d and 32", visits, calls, 4*32+4096)
			}
			t.Logf("%s: %d buckets, %v, %v", got, st.mapVisits, err, time.Since(start))
		})
	}
}

// mapSummary describes a loaded map by its parts; the text users read is
// service/api's, which this package cannot import.
func mapSummary(v *Variable) string {
	if v.Unreadable != nil {
		return "(unreadable " + v.Unreadable.Error() + ")"
	}
	s := fmt.Sprintf("%s len %d, %d entries", v.Type, v.Len, len(v.Children)/2)
	for i := 0; i+1 < len(v.Children); i += 2 {
		s += "; " + part(&v.Children[i]) + ": " + part(&v.Children[i+1])
	}
	return s
}

func part(v *Variable) string {
	if v.Unreadable != nil {
		return "(unreadable " + v.Unreadable.Error() + ")"
	}
	return v.Value
}

func scopesType(t *testing.T, toolchain, name string) godwarf.Type {
	t.Helper()
	ef, err := elf.Open(fixture.Build(t, "scopes", fixture.Flavour{Toolchain: toolchain}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ef.Close() })
	d, err := ef.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	typ, err := godwarf.New(d).ByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return typ
}
