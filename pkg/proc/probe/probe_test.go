package probe

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/dwarf/godwarf"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

func open(t *testing.T, name string, fl fixture.Flavour) (*bininfo.BinaryInfo, *godwarf.Types) {
	t.Helper()
	bi, err := bininfo.Open(fixture.Build(t, name, fl))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bi.Close() })
	d, err := bi.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	return bi, godwarf.New(d)
}

func lookup(t *testing.T, bi *bininfo.BinaryInfo, name string) *bininfo.Function {
	t.Helper()
	fn, err := bi.LookupFunc(name)
	if err != nil {
		t.Fatalf("looking up %s: %v", name, err)
	}
	return fn
}

// TestFindSites checks the sites of the edge cases against the code the
// Go 1.26 compiler emits for _fixtures/ebpfmore (offsets from the entry).
func TestFindSites(t *testing.T) {
	for _, fl := range []fixture.Flavour{{Optimized: true}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			bi, _ := open(t, "ebpfmore", fl)
			cases := []struct {
				fn            string
				entry         uint64
				rets, tails   []uint64
				entryIsReturn bool
			}{
				// CMPQ SP, 16(R14) (4 bytes); JBE (2 bytes); PUSHQ BP...
				// two RETs, and the morestack JMP back to the entry,
				// which stays inside and is no tail jump.
				{fn: "main.fail", entry: 6, rets: []uint64{0x40, 0x4a}},
				// A leaf without a frame: no stack check, the body is RET.
				{fn: "main.empty", entry: 0, rets: []uint64{0}, entryIsReturn: true},
				// MOVQ 8(AX), AX; JMP main.(*Inner).Get.
				{fn: "main.(*Outer).Get", entry: 0, tails: []uint64{4}},
			}
			for _, c := range cases {
				fn := lookup(t, bi, c.fn)
				s, err := FindSites(bi, fn)
				if err != nil {
					t.Fatal(err)
				}
				rel := func(as []uint64) string {
					var out []string
					for _, a := range as {
						out = append(out, fmt.Sprintf("%#x", a-fn.Entry))
					}
					return strings.Join(out, " ")
				}
				want := fmt.Sprintf("entry %#x rets [%s] tails [%s] both %v", c.entry, rel(add(c.rets, fn.Entry)), rel(add(c.tails, fn.Entry)), c.entryIsReturn)
				got := fmt.Sprintf("entry %#x rets [%s] tails [%s] both %v", s.Entry-fn.Entry, rel(s.Returns), rel(s.TailJumps), s.EntryIsReturn())
				if got != want {
					t.Errorf("%s: got %s, want %s", c.fn, got, want)
				}
				off, err := FileOffset(bi, s.Entry)
				if err != nil {
					t.Fatal(err)
				}
				// The file offset must hold the very bytes decoded there.
				code, err := readCode(bi.ELF(), s.Entry-bi.Bias(), s.Entry-bi.Bias()+4)
				if err != nil {
					t.Fatal(err)
				}
				file, err := os.ReadFile(bi.Path())
				if err != nil {
					t.Fatal(err)
				}
				if got := file[off : off+4]; string(got) != string(code) {
					t.Errorf("%s: bytes at file offset %#x are % x, code has % x", c.fn, off, got, code)
				}
			}
		})
	}
}

func add(as []uint64, base uint64) []uint64 {
	var out []uint64
	for _, a := range as {
		out = append(out, a+base)
	}
	return out
}

// describeFunc renders fn's parameters and their locations as
// "a=RAX b=RBX | ~r0=RAX".
func describeFunc(t *testing.T, bi *bininfo.BinaryInfo, types *godwarf.Types, name string, abi ABI) string {
	t.Helper()
	params, err := Params(types, lookup(t, bi, name))
	if err != nil {
		t.Fatal(err)
	}
	locs, err := Assign(params, abi)
	if err != nil {
		t.Fatal(err)
	}
	args, results, argLocs, resLocs := Split(params, locs)
	var a, r []string
	for i, p := range args {
		a = append(a, p.Name+"="+argLocs[i].String())
	}
	for i, p := range results {
		r = append(r, p.Name+"="+resLocs[i].String())
	}
	return strings.Join(a, " ") + " | " + strings.Join(r, " ")
}

func TestAssignABIInternal(t *testing.T) {
	cases := []struct {
		fixture, fn, want string
	}{
		{"optargs", "main.addInts", "a=RAX b=RBX | ~r0=RAX"},
		{"optargs", "main.sumFloats", "x=X0 y=X1 | ~r0=X0"},
		{"optargs", "main.strLen", "s=RAX+RBX extra=RCX | ~r0=RAX"},
		{"optargs", "main.swapPair", "p=RAX+RBX | ~r0=RAX+RBX"},
		{"ebpftrace", "main.work", "id=RAX name=RBX+RCX vals=RDI+RSI+R8 | ~r0=RAX"},
		// Nine integer registers: j and k go to the stack, the result
		// restarts at RAX.
		{"ebpftrace", "main.many", "a=RAX b=RBX c=RCX d=RDI e=RSI f=R8 g=R9 h=R10 i=R11 j=stack+0 k=stack+8 | ~r0=RAX"},
		{"ebpftrace", "main.scale", "x=X0 n=RAX | ~r0=X0"},
		{"ebpftrace", "main.norm", "p=RAX | ~r0=RAX"},
		{"traceprog", "main.work", "n=RAX name=RBX+RCX it=RDI | ~r0=RAX ~r1=RBX+RCX"},
		{"ebpfmore", "main.mix", "a=RAX f=X0 s=RBX+RCX | ~r0=X0"},
		{"ebpfmore", "main.empty", " | "},
		{"ebpfmore", "main.blame", "n=RAX | ~r0=RAX ~r1=RBX+RCX"},
		// The compiler lists r twice (a deferred closure sets it).
		{"ebpfmore", "main.guard", "n=RAX | r=RAX"},
		{"ebpfmore", "main.(*Outer).Get", "i=RAX | ~r0=RAX"},
		// A shaped function's dictionary takes RAX (after the receiver
		// of a method) whether or not DWARF lists it; a closure inside
		// one captures the dictionary and takes none.
		{"generics", "main.Sum[go.shape.int]", "xs=RBX+RCX+RDI scale=RSI | ~r0=RAX"},
		{"generics", "main.Sum[go.shape.float64]", "xs=RBX+RCX+RDI scale=X0 | ~r0=X0"},
		{"generics", "main.Pair[go.shape.string,go.shape.int]", "k=RBX+RCX v=RDI | ~r0=RAX+RBX"},
		{"generics", "main.(*Box[go.shape.string]).Put", "b=RAX x=RCX+RDI n=RSI | ~r0=RAX"},
	}
	for _, fl := range []fixture.Flavour{{}, {Optimized: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			bins := map[string]*bininfo.BinaryInfo{}
			types := map[string]*godwarf.Types{}
			for _, c := range cases {
				if bins[c.fixture] == nil {
					bins[c.fixture], types[c.fixture] = open(t, c.fixture, fl)
				}
				if got := describeFunc(t, bins[c.fixture], types[c.fixture], c.fn, ABIInternal); got != c.want {
					t.Errorf("%s %s: got %q, want %q", c.fixture, c.fn, got, c.want)
				}
			}
		})
	}
}

// TestParamsShaped checks that a shaped function's parameters carry the
// shape they stand for, not the compiler's .paramN typedef, and that the
// dictionary is marked; the closure of a generic method takes none.
func TestParamsShaped(t *testing.T) {
	for _, fl := range []fixture.Flavour{{}, {Optimized: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			bi, types := open(t, "generics", fl)
			cases := []struct{ fn, want string }{
				{"main.Sum[go.shape.int]", ".dict:*dict xs:[]go.shape.int scale:go.shape.int ~r0:go.shape.int"},
				{"main.(*Box[go.shape.string]).Put", "b:*main.Box[go.shape.string] .dict:*dict x:go.shape.string n:int ~r0:int"},
			}
			if !fl.Optimized { // inlined into Put when optimized
				cases = append(cases, struct{ fn, want string }{"main.(*Box[go.shape.string]).Put.func1", "y:go.shape.string ~r0:int"})
			}
			for _, c := range cases {
				ps, err := Params(types, lookup(t, bi, c.fn))
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, p := range ps {
					tn := p.Type.String()
					if p.Dict {
						tn = "*dict"
					}
					got = append(got, p.Name+":"+tn)
				}
				if s := strings.Join(got, " "); s != c.want {
					t.Errorf("%s: got %q, want %q", c.fn, s, c.want)
				}
			}
		})
	}
}

func TestDictPosition(t *testing.T) {
	cases := []struct {
		name string
		at   int
		ok   bool
	}{
		{"main.Sum[go.shape.int]", 0, true},
		{"main.Map[go.shape.int,go.shape.map[string]int]", 0, true},
		{"main.(*Box[go.shape.string]).Put", 1, true},
		{"main.Box[go.shape.string].Len", 1, true},
		{"main.Sum[go.shape.int].func1", 0, false},
		{"main.(*Box[go.shape.string]).Put.func1", 0, false},
		{"main.Box[go.shape.string].Len.gowrap2", 0, false},
		{"main.Sum[int]", 0, false},
		{"main.main", 0, false},
	}
	for _, c := range cases {
		if at, ok := dictPosition(c.name); at != c.at || ok != c.ok {
			t.Errorf("dictPosition(%q) = %d, %v; want %d, %v", c.name, at, ok, c.at, c.ok)
		}
	}
}

func TestAssignABI0(t *testing.T) {
	bi, types := open(t, "ebpftrace", fixture.Flavour{Optimized: true})
	want := "a=stack+0 b=stack+8 c=stack+16 d=stack+24 e=stack+32 f=stack+40 g=stack+48 h=stack+56 i=stack+64 j=stack+72 k=stack+80 | ~r0=stack+88"
	if got := describeFunc(t, bi, types, "main.many", ABI0); got != want {
		t.Errorf("many under ABI0: got %q, want %q", got, want)
	}
	// A string after a bool is aligned to 8 and results follow the
	// arguments' area aligned to a pointer.
	want = "s=stack+0 extra=stack+16 | ~r0=stack+24"
	bi2, types2 := open(t, "optargs", fixture.Flavour{Optimized: true})
	if got := describeFunc(t, bi2, types2, "main.strLen", ABI0); got != want {
		t.Errorf("strLen under ABI0: got %q, want %q", got, want)
	}
}

func TestAssemble(t *testing.T) {
	bi, types := open(t, "ebpftrace", fixture.Flavour{Optimized: true})
	params, err := Params(types, lookup(t, bi, "main.work"))
	if err != nil {
		t.Fatal(err)
	}
	locs, err := Assign(params, ABIInternal)
	if err != nil {
		t.Fatal(err)
	}
	regs := &arch.Registers{Rax: 7, Rbx: 0x1000, Rcx: 5, Rdi: 0x2000, Rsi: 3, R8: 4}
	b, err := locs[1].Assemble(regs, nil, params[1].Type.Size())
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("% x", b); got != "00 10 00 00 00 00 00 00 05 00 00 00 00 00 00 00" {
		t.Errorf("name assembled as %s", got)
	}
	if b, err := locs[3].Assemble(regs, nil, 8); err != nil || b[0] != 7 {
		t.Errorf("result ~r0 assembled as % x, %v; want 07 from RAX", b, err)
	}
	ps, _ := Params(types, lookup(t, bi, "main.many"))
	ls, _ := Assign(ps, ABIInternal)
	if _, err := ls[9].Assemble(regs, nil, 8); err == nil {
		t.Errorf("assembling stack-held j from registers succeeded")
	}
	ps, _ = Params(types, lookup(t, bi, "main.scale"))
	ls, _ = Assign(ps, ABIInternal)
	if _, err := ls[0].Assemble(regs, nil, 8); err != ErrFloatRegister {
		t.Errorf("float argument: err %v, want ErrFloatRegister", err)
	}
}
