package cond_test

import (
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/ebpf/cond"
)

// table lists conditions over condhot's variables, at least one per
// operator and kind. The ones marked must compile in every flavour.
var table = []struct {
	expr string
	must bool // compiles in both flavours (arguments in registers or on the stack)
}{
	{"i == 3", true}, {"i != 3", true}, {"i < 10", true}, {"i <= 10", true}, {"i > 50", true}, {"i >= 50", true},
	{"i8 < 0", true}, {"i8 == -100", true}, {"i8 > -50", true},
	{"u16 > 60000", true}, {"u16 == 0", true}, {"i32 < 0", true}, {"i32 >= 1000", true},
	{"u64 > 1<<62", true}, {"u64&7 == 5", true}, {"u64>>58 == 9", true},
	{"ok", true}, {"!ok", true}, {"ok == true", true}, {"ok != (i > 5)", true},
	{"i%5 == 0 && i > 10", true}, {"i < 3 || i > 60", true}, {"!(i < 30)", true},
	{"i*3-7 == 26", true}, {"i/7 == 2", true}, {"i%7 == 1", true}, {"-i == -5", true}, {"^i == -8", true},
	{"i&3 == 2", true}, {"i|1 == 7", true}, {"i^5 == 0", true}, {"i&^1 == 10", true},
	{"i<<2 == 40", true}, {"i>>1 == 5", true}, {"i8 >> 70 == -1", true}, {"u16 << 60 == 0", true},
	{"i8 + 100 == 27", true}, {"i8 * 2 == 56", true}, {"u16 + 1 == 2001", true},
	{"i / (i%4) == 1", true}, {"i % (i-10) == 0", true},
	{"i8 >> u == 0", false}, {"i << (i%3) == 8", true},
	{"p == nil", true}, {"p != nil", true}, {"p.V > 0", true}, {"p.V == -9", true}, {"(*p).V == 2", true},
	{"p.Name == \"abc\"", true}, {"p.Next == nil", true}, {"p.Next.V == 13", true},
	{"r == nil", true}, {"r.A > 10", true}, {"r.B == 100", true}, {"r.C < 0", true}, {"r.D > 3000000000", true},
	{"r.F == -88", true}, {"r.OK", true}, {"r.In.V == 2", true}, {"r.In.Name == \"a\"", true},
	{"r.P == nil", true}, {"r.P.V == 13", true}, {"r.Arr[1] == -3", true}, {"r.Arr[3] > 10", true},
	{"len(r.Sl) == 3", true}, {"cap(r.Sl) == 7", true}, {"r.Sl[1] == -3", true}, {"r.Sl == nil", true},
	{"r.S == \"hello world\"", true}, {"len(r.S) > 2", true},
	{"s == \"\"", true}, {"s == \"abc\"", true}, {"s != \"xyz\"", true}, {"s == \"abcdefghijklmnopq\"", true},
	{"len(s) == 11", true}, {"s[0] == 97", true}, {"s[2] == 'c'", true},
	{"bs == \"abc\"", true}, {"len(bs) == 3", true}, {"bs == s", true},
	{"s == gName", true}, {"s == r.S", true},
	{"sl[i%8] == 8", true}, {"sl[i8] > 0", true}, {"r.Arr[i%5] == 7", true}, {"gArr[u16%4] == 9", true},
	{"s[i%4] == 'b'", true}, {"r.Sl[len(r.Sl)-1] == 0", true}, {"sl[u64] == 5", true},
	{"len(sl) == 3", true}, {"cap(sl) > 4", true}, {"sl[0] == 5", true}, {"sl[2] == 8", true}, {"sl == nil", true},
	{"err == nil", true}, {"err != nil", true},
	{"gCount == 20", true}, {"gCount > i", true}, {"gName == \"hello world\"", true}, {"gPtr == nil", true},
	{"gPtr.V == 13", true}, {"gArr[1] == 5000", true}, {"gU8 > 200", true}, {"main.gCount == 2*i", true},
	{"Limit < i", true}, {"i == Limit", true},
	{"loc > 100", false}, {"loc == -13", false}, {"u == 37", false}, {"u > 200", false}, {"name == \"abc\"", false},
	{"len(name) == 0", false}, {"name[0] == 'h'", false}, {"loc+int(u) > 0", false}, {"name < s", false},
	{"s < \"abc\"", true}, {"s >= \"hello\"", true}, {"\"b\" > s", true}, {"s <= gName", true}, {"r.S > s", true},
	{"int(i8) + i > 0", true}, {"uint8(i*37) == 37", true}, {"int8(u16) < 0", true}, {"uint16(i32) > 60000", true},
	{"int64(r.D) > 3000000000", true}, {"uintptr(i) == 5", true}, {"byte(i) == 'a'", true}, {"bool(ok)", true},
	{"i == 3 && p.V == 2", true}, {"p != nil && p.V > 0", true}, {"p == nil || p.V < 0", true},
	{"r != nil && r.P != nil && r.P.V > 0", true}, {"i > 30 && s == \"abc\"", true},
}

// notCompilable are conditions the compiler must refuse: the evaluator
// rejects them, or they need what runs only when stopped.
var notCompilable = []string{
	"i + \"a\" == 3", "s + \"x\" == \"ax\"", "i == i8", "ok + 1 == 2", "p == 0", "int(s) == 1", "bool(i) == true",
	"float64(i) > 1", "len(m) == 1", "foo(i)", "err.Error() == \"boom\"", "i", "s", "nosuchvar == 1",
	"*r == *r", "sl[ok] == 1", "sl[p] == 1", "rip == 0", "&i == nil", "i / 0 == 1", "i << -1 == 0",
}

func TestCompileRefuses(t *testing.T) {
	s := openSites(t, fixture.Flavour{})[1]
	for _, e := range notCompilable {
		if _, err := cond.Compile(s.bi, s.pc, e, cond.Options{Eval: s.prog}); !errors.Is(err, cond.ErrNotCompilable) {
			t.Errorf("Compile(%q) = %v, want ErrNotCompilable", e, err)
		}
	}
}

// gen makes random conditions over condhot's variables: comparisons of
// integer expressions of one type, combined with && || !, plus nil tests
// and string comparisons.
type gen struct {
	r *rand.Rand
}

var intAtoms = map[string][]string{
	"int":    {"i", "gCount", "len(s)", "len(sl)", "cap(sl)", "sl[0]", "sl[2]", "r.Sl[1]", "len(r.S)", "Limit", "sl[i%7]", "r.Sl[i8]"},
	"int8":   {"i8", "r.F"},
	"int16":  {"r.C", "r.Arr[1]", "r.Arr[3]", "r.Arr[u16%5]"},
	"int32":  {"i32", "p.V", "r.In.V", "r.P.V", "p.Next.V"},
	"int64":  {"r.A"},
	"uint8":  {"gU8", "r.B", "s[0]", "s[1]", "s[i%5]", "bs[gCount%4]"},
	"uint16": {"u16", "gArr[1]", "gArr[0]"},
	"uint32": {"r.D"},
	"uint64": {"u64"},
}

var intTypes = []string{"int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}

var consts = []string{"0", "1", "2", "3", "7", "-1", "-100", "40", "127", "255", "1000", "65535", "1<<20", "'a'"}

func (g *gen) pick(xs []string) string { return xs[g.r.Intn(len(xs))] }

func (g *gen) intExpr(typ string, depth int) string {
	if depth <= 0 || g.r.Intn(3) == 0 {
		if g.r.Intn(4) == 0 && depth < 2 {
			return g.pick(consts)
		}
		return g.pick(intAtoms[typ])
	}
	switch g.r.Intn(8) {
	case 0:
		return "-(" + g.intExpr(typ, depth-1) + ")"
	case 1:
		return "^(" + g.intExpr(typ, depth-1) + ")"
	case 2:
		return "(" + g.intExpr(typ, depth-1) + g.pick([]string{" << ", " >> "}) + g.pick([]string{"0", "1", "3", "9", "63", "64", "70"}) + ")"
	case 3:
		return "(" + g.intExpr(typ, depth-1) + g.pick([]string{" / ", " % "}) + g.intExpr(typ, depth-1) + ")"
	case 4:
		other := g.pick(intTypes)
		return typ + "(" + g.intExpr(other, depth-1) + ")"
	}
	op := g.pick([]string{" + ", " - ", " * ", " & ", " | ", " ^ ", " &^ "})
	return "(" + g.intExpr(typ, depth-1) + op + g.intExpr(typ, depth-1) + ")"
}

func (g *gen) boolExpr(depth int) string {
	if depth > 0 {
		switch g.r.Intn(6) {
		case 0:
			return g.boolExpr(depth-1) + " && " + g.boolExpr(depth-1)
		case 1:
			return "(" + g.boolExpr(depth-1) + " || " + g.boolExpr(depth-1) + ")"
		case 2:
			return "!(" + g.boolExpr(depth-1) + ")"
		}
	}
	switch g.r.Intn(10) {
	case 0:
		return g.pick([]string{"p", "r", "r.P", "gPtr", "p.Next", "err", "sl", "r.Sl"}) + g.pick([]string{" == nil", " != nil"})
	case 1:
		return g.pick([]string{"s", "bs", "gName", "r.S", "p.Name", "r.In.Name"}) + g.pick([]string{" == ", " != ", " < ", " <= ", " > ", " >= "}) +
			g.pick([]string{"\"abc\"", "\"\"", "\"hello world\"", "\"hello\"", "\"abd\"", "s", "gName", "r.S"})
	case 2:
		return g.pick([]string{"ok", "r.OK", "!ok", "ok == r.OK"})
	case 3:
		return g.pick([]string{"p == gPtr", "p != r.P", "r.P == gPtr"})
	}
	typ := g.pick(intTypes)
	return g.intExpr(typ, 2) + g.pick([]string{" == ", " != ", " < ", " <= ", " > ", " >= "}) + g.intExpr(typ, 2)
}

// conditions returns the table and n random conditions from seed.
func conditions(seed int64, n int) []string {
	var out []string
	for _, c := range table {
		out = append(out, c.expr)
	}
	g := &gen{r: rand.New(rand.NewSource(seed))}
	for i := 0; i < n; i++ {
		out = append(out, g.boolExpr(g.r.Intn(3)))
	}
	return out
}

const seed = 20261202

// expected gives, for some conditions, the verdict of call i from
// condhot's source, so that the test does not rest on the two evaluators
// alone. (Go 1.26's optimized location lists put bs and sl 8 bytes above
// where the ABI passes them; both evaluators read them at their ABI slots,
// see pkg/proc/eval/abislots.go, so the source's verdicts hold there too.)
var expected = map[string]func(i int) int{
	"i == 3":   func(i int) int { return b2v(i == 3) },
	"p == nil": func(i int) int { return b2v(i%4 == 0) },
	"p.V > 0": func(i int) int {
		if i%4 < 2 {
			return vFault // nil, then the invalid pointer
		}
		return b2v((i%6)*11-20 > 0)
	},
	`bs == "abc"`: func(i int) int {
		if i%7 == 6 {
			return vFault // a string whose bytes cannot be read
		}
		return b2v(i%3 == 2)
	},
	// sl is data[:i%7] of {5, -3, 8, 100, 0, 42, 7}: an index not below
	// its length faults.
	"sl[i%8] == 8": func(i int) int {
		if i%8 >= i%7 {
			return vFault
		}
		return b2v(i%8 == 2)
	},
	"i / (i%4) == 1": func(i int) int {
		if i%4 == 0 {
			return vFault
		}
		return b2v(i/(i%4) == 1)
	},
}

func b2v(b bool) int {
	if b {
		return vTrue
	}
	return vFalse
}

func expect(f func(int) int) string {
	vs := make([]int, calls)
	for i := range vs {
		vs[i] = f(i)
	}
	return verdictText(vs)
}

// TestBothEvaluatorsAgree compiles every condition at condhot's site, runs
// the fixture once with all of them in the kernel and once under ptrace
// evaluating them at each stop, and requires the same verdict (true,
// false, or fault where the evaluator fails) for every call.
func TestBothEvaluatorsAgree(t *testing.T) {
	for _, fl := range fixture.Flavours {
		for _, s := range openSites(t, fl) {
			t.Run(fl.Name()+"/"+s.name, func(t *testing.T) { agree(t, s, fl) })
		}
	}
}

func agree(t *testing.T, s *site, fl fixture.Flavour) {
	exprs := conditions(seed, 150)
	must := map[string]bool{}
	for _, c := range table {
		switch {
		case s.name == "entry":
			must[c.expr] = c.must
		case !fl.Optimized:
			must[c.expr] = true
		}
	}
	var progs []*cond.Program
	refused := map[string]int{}
	for _, e := range exprs {
		p, err := cond.Compile(s.bi, s.pc, e, cond.Options{Eval: s.prog})
		if err != nil {
			if !errors.Is(err, cond.ErrNotCompilable) {
				t.Fatalf("Compile(%q): %v does not wrap ErrNotCompilable", e, err)
			}
			if must[e] {
				t.Errorf("Compile(%q): %v", e, err)
			}
			reason := err.Error()
			if k := strings.Index(reason, ": "); k >= 0 {
				reason = reason[k+2:]
			}
			refused[reason]++
			continue
		}
		progs = append(progs, p)
	}
	t.Logf("%d of %d conditions compiled; refused: %v", len(progs), len(exprs), refused)
	if len(progs) < len(table)/2 {
		t.Fatalf("only %d conditions compiled", len(progs))
	}
	compiled := make([]string, len(progs))
	for i, p := range progs {
		compiled[i] = p.Expr
	}
	kernel := kernelVerdicts(t, s, progs)
	ptrace := ptraceVerdicts(t, s, compiled)
	bad := 0
	for i, e := range compiled {
		if f, ok := expected[e]; ok {
			if got, want := verdictText(kernel[i]), expect(f); got != want {
				t.Errorf("%q in the kernel:\n got %s\nwant %s", e, got, want)
			}
		}
		k, p := verdictText(kernel[i]), verdictText(ptrace[i])
		if k != p {
			bad++
			t.Errorf("%q:\n kernel %s\n ptrace %s", e, k, p)
		}
	}
	if bad == 0 {
		t.Logf("all %d conditions agree on %d calls", len(compiled), calls)
	}
}

// TestReads checks where the compiled code reads variables from: at the
// entry of main.hot the first arguments are in their ABI registers (a
// string in two), the ones past the nine integer registers on the stack;
// at the line of an unoptimized build every variable is on the stack.
func TestReads(t *testing.T) {
	want := map[string]string{
		"noopt/entry": "i:RAX i8:RBX u16:RCX i32:RDI u64:RSI ok:R8 s:R9,R10 bs:CFA+0 p:R11 r:CFA+16 sl:CFA+24 err:CFA+48 gCount:0x",
		"opt/entry":   "i:RAX i8:RBX u16:RCX i32:RDI u64:RSI ok:R8 s:R9,R10 bs:CFA+0 p:R11 r:CFA+16 sl:CFA+24 err:CFA+48 gCount:0x",
		"noopt/line":  "i:CFA+64 i8:CFA+72 u16:CFA+74 i32:CFA+76 u64:CFA+80 ok:CFA+88 s:CFA+96 bs:CFA+0 p:CFA+112 r:CFA+16 sl:CFA+24 err:CFA+48 gCount:0x",
	}
	const e = `i == 3 && i > 1 && i8 < 0 && u16 > 0 && i32 > 0 && u64 > 0 && ok && s == "a" && bs == "b" && p == nil && r == nil && sl == nil && err == nil && gCount == 1`
	for _, fl := range fixture.Flavours {
		for _, s := range openSites(t, fl) {
			key := fl.Name() + "/" + s.name
			w, ok := want[key]
			if !ok {
				continue
			}
			p, err := cond.Compile(s.bi, s.pc, e, cond.Options{Eval: s.prog})
			if err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
			var got []string
			for _, r := range p.Reads {
				where := r.Where
				if strings.HasPrefix(where, "0x") {
					where = "0x" // a link-time address: depends on the toolchain
				}
				got = append(got, r.Name+":"+where)
			}
			if g := strings.Join(got, " "); g != w {
				t.Errorf("%s: reads\n got %s\nwant %s", key, g, w)
			}
		}
	}
}
