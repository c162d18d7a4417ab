package eval_test

import (
	"fmt"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// allFlavours are the builds the scope tests run on: every toolchain the
// project supports without optimizations, and optimized with the current one.
func allFlavours() []fixture.Flavour {
	var out []fixture.Flavour
	for _, tc := range fixture.Toolchains {
		out = append(out, fixture.Flavour{Toolchain: tc})
	}
	return append(out, fixture.Flavour{Optimized: true}, fixture.Flavour{Optimized: true, PIE: true})
}

// TestExpressions evaluates expressions over package variables at the
// first stop; the expected text is what Delve 1.27.2 prints for them.
func TestExpressions(t *testing.T) {
	for _, fl := range allFlavours() {
		t.Run(fl.Name(), func(t *testing.T) {
			s := start(t, "scopes", fl)
			s.cont()
			sc := s.scope("main.useGlobals")
			addr := func(name string) uint64 {
				pv, err := s.bi.LookupPackageVar(name)
				if err != nil {
					t.Fatal(err)
				}
				return pv.Addr
			}
			ppt := s.word(addr("main.ppt"))
			cyc := s.word(addr("main.cyclic"))
			for _, c := range []struct{ expr, want string }{
				{"counter", "7"},
				{"main.counter", "7"},
				{`"main".counter`, "7"},
				{"greeting", `"hello, world"`},
				{"pt", "main.Point {X: 3, Y: 4}"},
				{"ppt", fmt.Sprintf("(*main.Point)(%#x)\n*main.Point {X: 5, Y: 6}", ppt)},
				{"*ppt", "main.Point {X: 5, Y: 6}"},
				{"ppt.X", "5"},
				{"named", "main.Named {\n\tPoint: main.Point {X: 1, Y: 2},\n\tName: \"n\",\n\tLoc: *main.Point {X: 9, Y: 8},}"},
				{"named.X", "1"},
				{"named.Point", "main.Point {X: 1, Y: 2}"},
				{"named.Name", `"n"`},
				{"named.Loc.X", "9"},
				{"anyInt", "interface {}(int) 42"},
				{"anyInt.(int)", "42"},
				{"errVal", "error(*errors.errorString) *{s: \"boom\"}"},
				{"nums", "[]int len: 5, cap: 5, [10,20,30,40,50]"},
				{"nums[1:3]", "[]int len: 2, cap: 4, [20,30]"},
				{"nums[4]", "50"},
				{"arr", `[3]string ["a","b","c"]`},
				{"arr[1:]", `[]string len: 2, cap: 2, ["b","c"]`},
				{"raw", "[]uint8 len: 6, cap: 6, [98,121,116,101,115,33]"},
				{"string(raw)", `"bytes!"`},
				{"[]byte(greeting)", "[]uint8 len: 12, cap: 12, [104,101,108,108,111,44,32,119,111,114,108,100]"},
				{"byName", "map[string]int [\n\t\"one\": 1, \n\t\"two\": 2, \n\t\"three\": 3, \n]"},
				{`byName["two"]`, "2"},
				{"byPoint[main.Point{1,2}]", `"p12"`},
				{"byPoint[main.Point{Y: 4, X: 3}]", `"p34"`},
				{"byInt[2]", `"dos"`},
				{`byIface["s"]`, "1"},
				{"byIface[2]", "2"},
				{"cplx", "(1.5 + -2i)"},
				{"cplx + 1", "(2.5 + -2i)"},
				{"real(cplx)", "1.5"},
				{"nilSlice", "[]int len: 0, cap: 0, nil"},
				{"nilMap", "map[string]int nil"},
				{"nilPtr", "*main.Point nil"},
				{"cyclic", fmt.Sprintf("(*main.List)(%#x)\n*main.List {\n\tV: 1,\n\tNext: *main.List {\n\t\tV: 1,\n\t\tNext: *(*main.List)(%#x),},}", cyc, cyc)},
				{"cyclic.Next.Next.Next.V", "1"},
				{"counter + 1", "8"},
				{"counter / 2", "3"},
				{"counter % 4", "3"},
				{"-small", "3"},
				{"small * 2", "-6"},
				{"^counter", "-8"},
				{"big", "9223372036854775808"},
				{"big + big", "0"},
				{"1 + 2.5", "3.5"},
				{"7 / 2", "3"},
				{"7.0 / 2", "3.5"},
				{"1 << 3", "8"},
				{"'a'", "97"},
				{"300 + small", "41"},
				{"uint8(300)", "44"},
				{"uint8(counter)", "7"},
				{"float64(counter) / 2", "3.5"},
				{"int(ratio * 3)", "4"},
				{"string(65)", `"A"`},
				{`"abc" + greeting`, `"abchello, world"`},
				{"greeting[1]", "101"},
				{"greeting[1:4]", `"ell"`},
				{"len(greeting)", "12"},
				{"cap(nums)", "5"},
				{"len(byName)", "3"},
				{"len(arr)", "3"},
				{"flag && counter > 3", "true"},
				{"!flag || counter == 0", "false"},
				{"counter == 7", "true"},
				{"greeting < \"z\"", "true"},
				{"pt == main.Point{3, 4}", "true"},
				{"nil", "nil"},
				{"nums == nil", "false"},
				{"nilSlice == nil", "true"},
				{"nilPtr == nil", "true"},
				{"ppt != nil", "true"},
				{"errVal != nil", "true"},
				{"&pt", fmt.Sprintf("(*main.Point)(%#x)", addr("main.pt"))},
				{"&nums[1]", fmt.Sprintf("(*int)(%#x)", s.word(addr("main.nums"))+8)},
				{fmt.Sprintf("(*main.Point)(%#x)", ppt), fmt.Sprintf("(*main.Point)(%#x)\n*main.Point {X: 5, Y: 6}", ppt)},
				{fmt.Sprintf("*(*main.Point)(%#x)", ppt), "main.Point {X: 5, Y: 6}"},
				{"(*main.Point)(0)", "*main.Point nil"},
				{"uintptr(ppt)", fmt.Sprint(ppt)},
				{"errVal.(*errors.errorString).s", `"boom"`},
				{"named.Loc.(data)", ""},
			} {
				if c.expr == "named.Loc.(data)" {
					continue
				}
				expr(t, sc, c.expr, c.want)
			}
			for _, c := range []struct{ expr, msg string }{
				{"nonexist", "could not find symbol value for nonexist"},
				{"1 +", "1:4: expected operand, found 'EOF'"},
				{"nums[", "1:6: expected operand, found 'EOF'"},
				{"counter * 2.5", "can not convert 2.5 constant to int"},
				{"int32(1) + int64(2)", `mismatched types "int32" and "int64"`},
				{"counter + small", `mismatched types "int" and "int8"`},
				{"nums[10]", "index out of bounds"},
				{"arr[5]", "index out of bounds"},
				{`byName["zzz"]`, "key not found"},
				{"*nilPtr", "nil pointer dereference"},
				{"nilPtr.X", "nilPtr is nil"},
				{"anyInt.(string)", "interface conversion: interface {} is int, not string"},
				{"counter / 0", "runtime error: integer divide by zero"},
				{"counter % 0", "runtime error: integer divide by zero"},
				{"nums[-1]", "index out of bounds"},
				{"nums[-1:]", "index out of bounds"},
				{"pt.Z", "pt has no member Z"},
				{"&1", `can not take address of "1"`},
				{"main.nothere", "could not find symbol value for main.nothere"},
				{"main.sink(1)", "function calls not allowed without using 'call'"},
			} {
				exprErr(t, sc, c.expr, c.msg)
			}
		})
	}
}

// word reads one pointer-sized word of the target.
func (s *session) word(addr uint64) uint64 {
	s.t.Helper()
	var b [8]byte
	if _, err := s.tg.Process().ReadMemory(b[:], addr); err != nil {
		s.t.Fatal(err)
	}
	var w uint64
	for i := 7; i >= 0; i-- {
		w = w<<8 | uint64(b[i])
	}
	return w
}

var _ = value.DefaultLoadConfig
