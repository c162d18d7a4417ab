package probe

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/stack/stacktest"
)

// TestShapedArgsAtEntry stops generics at the entry sites both tracers
// probe and assembles the arguments from the registers as they do:
// Sum([]int{1, 2, 3}, 2) and (&Box[string]{}).Put("hi", 2). Before the
// dictionary got its register back, optimized builds read xs from
// RAX+RBX+RCX (the dictionary, the slice's pointer and length), a length
// like 23104523685552.
func TestShapedArgsAtEntry(t *testing.T) {
	testenv.RequirePtrace(t)
	for _, fl := range []fixture.Flavour{{}, {Optimized: true}, {Optimized: true, Toolchain: "go1.22.12"}} {
		t.Run(fl.Name(), func(t *testing.T) {
			s := stacktest.Launch(t, fixture.Build(t, "generics", fl))
			d, err := s.Bin.DWARF()
			if err != nil {
				t.Fatal(err)
			}
			types := godwarf.New(d)
			for _, name := range []string{"main.Sum[go.shape.int]", "main.(*Box[go.shape.string]).Put"} {
				sites, err := FindSites(s.Bin, lookup(t, s.Bin, name))
				if err != nil {
					t.Fatal(err)
				}
				s.BreakAtPC(sites.Entry)
			}
			word := func(addr uint64) uint64 {
				var b [8]byte
				if _, err := s.Proc.ReadMemory(b[:], addr); err != nil {
					t.Fatalf("reading %#x: %v", addr, err)
				}
				return binary.LittleEndian.Uint64(b[:])
			}
			args := func(name string, regs *arch.Registers) [][]byte {
				params, err := Params(types, lookup(t, s.Bin, name))
				if err != nil {
					t.Fatal(err)
				}
				locs, err := Assign(params, ABIInternal)
				if err != nil {
					t.Fatal(err)
				}
				ps, _, ls, _ := Split(params, locs)
				var out [][]byte
				for i, p := range ps {
					b, err := ls[i].Assemble(regs, nil, p.Type.Size())
					if err != nil {
						t.Fatalf("%s: %s: %v", name, p.Name, err)
					}
					out = append(out, b)
				}
				return out
			}
			u := binary.LittleEndian.Uint64

			hit := s.ContinueN(1)
			a := args("main.Sum[go.shape.int]", &hit.Regs)
			if len(a) != 2 || len(a[0]) != 24 {
				t.Fatalf("Sum: %d arguments", len(a))
			}
			xs := a[0]
			got := fmt.Sprintf("len %d cap %d [%d %d %d] scale %d", u(xs[8:]), u(xs[16:]),
				word(u(xs)), word(u(xs)+8), word(u(xs)+16), u(a[1]))
			if want := "len 3 cap 3 [1 2 3] scale 2"; got != want {
				t.Errorf("Sum at entry: %s, want %s", got, want)
			}

			hit = s.ContinueN(1)
			a = args("main.(*Box[go.shape.string]).Put", &hit.Regs)
			if len(a) != 3 || len(a[1]) != 16 {
				t.Fatalf("Put: %d arguments", len(a))
			}
			// A wrong length is shown as such, not read.
			str := []byte(fmt.Sprintf("<len %d>", u(a[1][8:])))
			if n := u(a[1][8:]); n <= 16 {
				str = make([]byte, n)
				if _, err := s.Proc.ReadMemory(str, u(a[1])); err != nil {
					t.Fatal(err)
				}
			}
			// b points at a Box whose items slice is still empty.
			got = fmt.Sprintf("b.items len %d x %q n %d", word(u(a[0])+8), str, u(a[2]))
			if want := `b.items len 0 x "hi" n 2`; got != want {
				t.Errorf("Put at entry: %s, want %s", got, want)
			}
		})
	}
}
