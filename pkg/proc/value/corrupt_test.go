package value_test

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// fakeMem is a sparse memory made of regions; anything else is unmapped.
// It stands for an eBPF capture buffer or a corrupt process.
type fakeMem map[uint64][]byte

func (m fakeMem) ReadMemory(buf []byte, addr uint64) (int, error) {
	for base, b := range m {
		if addr >= base && addr+uint64(len(buf)) <= base+uint64(len(b)) && addr+uint64(len(buf)) >= addr {
			return copy(buf, b[addr-base:]), nil
		}
	}
	return 0, fmt.Errorf("unmapped %#x", addr)
}

func words(ws ...uint64) []byte {
	b := make([]byte, 8*len(ws))
	for i, w := range ws {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	return b
}

func fixtureTypes(t *testing.T, f fixture.Flavour) *godwarf.Types {
	t.Helper()
	ef, err := elf.Open(fixture.Build(t, "values", f))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ef.Close() })
	d, err := ef.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	return godwarf.New(d)
}

// TestCorruptMemory feeds the loader headers that a corrupt or racing
// target could hold: every case must end quickly with a marked error or
// truncation, never a crash, a hang or a huge allocation.
func TestCorruptMemory(t *testing.T) {
	types := fixtureTypes(t, fixture.Flavour{})
	typ := func(name string) godwarf.Type {
		ty, err := types.ByName(name)
		if err != nil {
			t.Fatal(err)
		}
		return ty
	}
	const at = 0x1000
	cyc := fakeMem{at: words(at+16, 0), at + 16: words(7, at+16)} // *Node → Node{7, self}
	deep := value.DefaultLoadConfig
	deep.MaxVariableRecurse = 1 << 30
	cases := []struct {
		name string
		mem  fakeMem
		typ  string
		cfg  value.LoadConfig
		want string
	}{
		{"huge slice, bad base", fakeMem{at: words(0xdead0000, 1<<62, 1<<62)}, "[]int", value.DefaultLoadConfig,
			"[]int len: 4611686018427387904, cap: 4611686018427387904, [(unreadable reading 8 bytes at 0xdead0000: unmapped 0xdead0000),(unreadable reading 8 bytes at 0xdead0008: unmapped 0xdead0008),(unreadable reading 8 bytes at 0xdead0010: unmapped 0xdead0010),(unreadable reading 8 bytes at 0xdead0018: unmapped 0xdead0018),...+4611686018427387900 more]"},
		{"slice wrapping around", fakeMem{at: words(^uint64(0)-8, 64, 64)}, "[]int", value.DefaultLoadConfig,
			"(unreadable bad array base address 0xfffffffffffffff7)"},
		{"negative slice len", fakeMem{at: words(0x2000, ^uint64(0), 0)}, "[]int", value.DefaultLoadConfig,
			"(unreadable Negative array length)"},
		{"nil base, nonzero len", fakeMem{at: words(0, 5, 5)}, "[]int", value.DefaultLoadConfig,
			"(unreadable non-zero length array with nil base)"},
		{"huge string", fakeMem{at: words(0x3000, 1<<60), 0x3000: []byte(strings.Repeat("x", 64))}, "string", value.DefaultLoadConfig,
			`"` + strings.Repeat("x", 64) + `...+1152921504606846912 more"`},
		{"negative string len", fakeMem{at: words(0x3000, ^uint64(0))}, "string", value.DefaultLoadConfig,
			"(unreadable invalid length: -1)"},
		{"dangling pointer", fakeMem{at: words(0xbad000)}, "*main.Point", value.DefaultLoadConfig,
			"*main.Point {X: (unreadable reading 8 bytes at 0xbad000: unmapped 0xbad000), Y: (unreadable reading 8 bytes at 0xbad008: unmapped 0xbad008), Name: (unreadable could not read string pointer: reading 8 bytes at 0xbad010: unmapped 0xbad010)}"},
		{"cycle under unbounded recursion", cyc, "*main.Node", deep, ""},
		{"map header unmapped", fakeMem{at: words(0x4000)}, "map[string]int", value.DefaultLoadConfig,
			"(unreadable reading 8 bytes at 0x4000: unmapped 0x4000)"},
		{"interface without symbols", fakeMem{at: words(0x5000, 0x6000)}, "error", value.DefaultLoadConfig,
			"(unreadable invalid interface type: reading 8 bytes at 0x5008: unmapped 0x5008)"},
		// An uninitialised result slot of interface type (gofmt's
		// parseBinaryExpr and simplifier.Visit at their entry, -N -l).
		{"itab without a type", fakeMem{at: words(0x5000, 0x6000), 0x5000: words(0, 0)}, "error", value.DefaultLoadConfig,
			"(unreadable invalid interface type: itab 0x5000 has no type)"},
		{"nil type with a data word", fakeMem{at: words(0, 0x6000)}, "error", value.DefaultLoadConfig,
			"error (unreadable nil interface type with data word 0x6000)"},
	}
	for _, c := range cases {
		start := time.Now()
		v := (&value.Loader{Mem: c.mem, Types: types}).Load("x", at, typ(c.typ), c.cfg)
		got := api.FormatVar(v)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", c.name, d)
		}
		if c.want == "" {
			// The cycle must stop at the hard depth limit with an address.
			if !strings.Contains(got, "*(*main.Node)(0x1010)") || strings.Count(got, "V: 7") < 10 {
				t.Errorf("%s: %.200s ... %s", c.name, got, got[max(0, len(got)-200):])
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}
