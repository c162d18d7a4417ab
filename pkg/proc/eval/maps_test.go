package eval_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// valuesmoreLine is the line of `return y + 1` in scale, inlined into
// useScale when optimized.
const valuesmoreLine = 56

// stopInScale runs the valuesmore fixture to line 56 of scale.
func stopInScale(t *testing.T, fl fixture.Flavour) *session {
	t.Helper()
	s := start(t, "valuesmore", fl)
	if _, err := s.tg.SetBreakpointLine(fixture.Source("valuesmore"), valuesmoreLine); err != nil {
		t.Fatal(err)
	}
	s.cont()
	return s
}

// TestMapPaging pages through a 1,000-entry map with Delve's m[lo:]
// syntax, 64 entries at a time, and checks that every key comes exactly
// once with its value (pageMap[i] = 2*i) and that each page says how many
// entries it did not show, counted from the whole map as Delve does.
func TestMapPaging(t *testing.T) {
	for _, fl := range allFlavours() {
		t.Run(fl.Name(), func(t *testing.T) {
			s := stopInScale(t, fl)
			sc := s.scope("main.useScale")
			seen := map[int64]int{}
			for lo := 0; lo < 1000; lo += 64 {
				e := fmt.Sprintf("pageMap[%d:]", lo)
				v, err := sc.Eval(e, value.DefaultLoadConfig)
				if err != nil || v.Unreadable != nil {
					t.Fatalf("%s: %v %v", e, err, v.Unreadable)
				}
				n := min(64, 1000-lo)
				if v.Len != 1000 || len(v.Children) != 2*n {
					t.Fatalf("%s: len %d, %d entries; want 1000, %d", e, v.Len, len(v.Children)/2, n)
				}
				if got, want := api.FormatVar(v), fmt.Sprintf(", ,...+%d more]", 1000-n); !strings.HasSuffix(got, want) {
					t.Errorf("%s = ...%s, want suffix %q", e, got[max(0, len(got)-40):], want)
				}
				for i := 0; i < len(v.Children); i += 2 {
					k, err1 := strconv.ParseInt(v.Children[i].Value, 10, 64)
					val, err2 := strconv.ParseInt(v.Children[i+1].Value, 10, 64)
					if err1 != nil || err2 != nil || val != 2*k {
						t.Errorf("%s entry %d: %s: %s", e, i/2, v.Children[i].Value, v.Children[i+1].Value)
					}
					if prev, dup := seen[k]; dup {
						t.Errorf("key %d on the pages from %d and %d", k, prev, lo)
					}
					seen[k] = lo
				}
			}
			for k := int64(0); k < 1000; k++ {
				if _, ok := seen[k]; !ok {
					t.Errorf("key %d on no page", k)
				}
			}
			// Slicing again moves on, as in Delve: [64:][64:] is [128:].
			a, errA := sc.Eval("pageMap[64:][64:]", value.DefaultLoadConfig)
			b, errB := sc.Eval("pageMap[128:]", value.DefaultLoadConfig)
			if errA != nil || errB != nil || api.FormatVar(a) != api.FormatVar(b) {
				t.Errorf("pageMap[64:][64:] differs from pageMap[128:]: %v %v", errA, errB)
			}
			expr(t, sc, "len(pageMap[64:])", "1000")
			expr(t, sc, "pageMap[999]", "1998")
			expr(t, sc, "pageMap[0]", "0")
			exprErr(t, sc, "pageMap[1000]", "key not found")
			exprErr(t, sc, "pageMap[1000:]", "map index out of bounds")
			exprErr(t, sc, "pageMap[1:2]", "second slice argument must be empty for maps")
		})
	}
}

// TestInlinedScope stops inside scale where the optimizer inlined it into
// useScale: the inlined frame has scale's arguments and the physical
// frame useScale's. The texts are Delve 1.27.2's for the same binaries.
func TestInlinedScope(t *testing.T) {
	for _, fl := range []fixture.Flavour{{}, {Optimized: true}, {Optimized: true, PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			s := stopInScale(t, fl)
			inner := s.scope("main.scale")
			outer := s.scope("main.useScale")
			if fl.Optimized {
				if fn := inner.Function().Name; fn != "main.useScale" {
					t.Errorf("inlined scale's physical function is %s, want main.useScale", fn)
				}
				// factor is the constant 3: the compiler folded it away.
				if got := vars(t, inner, true); got != "x = 1\n" {
					t.Errorf("scale args = %q", got)
				}
				if got := vars(t, inner, false); got != "(no locals)\n" {
					t.Errorf("scale locals = %q", got)
				}
				expr(t, inner, "x * 10", "10")
				exprErr(t, inner, "factor", "could not find symbol value for factor")
				exprErr(t, inner, "a", "could not find symbol value for a")
				if got := vars(t, outer, true); got != "a = 1\n~r0 = (unreadable empty OP stack)\n" {
					t.Errorf("useScale args = %q", got)
				}
				exprErr(t, outer, "x", "could not find symbol value for x")
			} else {
				if got := vars(t, inner, true); got != "x = 1\nfactor = 3\n~r0 = 0\n" {
					t.Errorf("scale args = %q", got)
				}
				if got := vars(t, inner, false); got != "y = 3\n" {
					t.Errorf("scale locals = %q", got)
				}
				if got := vars(t, outer, true); got != "a = 1\n~r0 = 0\n" {
					t.Errorf("useScale args = %q", got)
				}
			}
			expr(t, outer, "a + 1", "2")
			var _ *eval.Scope = outer
		})
	}
}

// TestClosurePrint checks that print lists a closure's captured variables
// (n by reference, s by value) as Delve 1.27.2 does; Go 1.22 emits no
// closure offsets, so there only the name shows.
func TestClosurePrint(t *testing.T) {
	for _, fl := range allFlavours() {
		t.Run(fl.Name(), func(t *testing.T) {
			s := stopInScale(t, fl)
			sc := s.scope("main.useScale")
			want := "main.main.func1 {\n\tn int = 5\n\ts string = \"captured\"\n}"
			if fl.Toolchain == "go1.22.12" {
				want = "main.main.func1"
			}
			expr(t, sc, "fn", want)
			v, err := sc.Eval("fn", value.DefaultLoadConfig)
			if err != nil || api.FormatVar(v) != "main.main.func1" {
				t.Errorf("one-line fn = %v, %v", v, err)
			}
		})
	}
}
