package api

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

func intVar(name, v string) Variable {
	return Variable{Name: name, Type: "int", Kind: reflect.Int, Value: v, Addr: 0x1000}
}

func strVar(name, v string, n int64) Variable {
	return Variable{Name: name, Type: "string", Kind: reflect.String, Value: v, Len: n, Addr: 0x2000}
}

func TestFormatVariables(t *testing.T) {
	point := Variable{Name: "p", Type: "main.Point", Kind: reflect.Struct, Len: 3, Addr: 0x3000,
		Children: []Variable{intVar("X", "3"), intVar("Y", "4"), strVar("Name", "pt", 2)}}
	longPoint := point
	longPoint.Children = []Variable{intVar("X", "3"), intVar("Y", "4"), strVar("Name", "a long name", 11)}
	slice := Variable{Type: "[]int", Kind: reflect.Slice, Len: 5, Cap: 8, Base: 0x4000, Addr: 0x4000,
		Children: []Variable{intVar("", "1"), intVar("", "2"), intVar("", "3")}}
	m := Variable{Type: "map[string]int", Kind: reflect.Map, Len: 1, Base: 0x5000, Addr: 0x5000,
		Children: []Variable{strVar("", "k", 1), intVar("", "9")}}
	ptr := Variable{Type: "*main.Point", Kind: reflect.Ptr, Addr: 0x6000, Children: []Variable{point}}
	nilSlice := Variable{Type: "[]int", Kind: reflect.Slice, Addr: 0x7000}
	// Two levels of line breaks, each indented one tab further; on one
	// line no indent at all.
	nested := Variable{Name: "b", Type: "main.Box", Kind: reflect.Struct, Len: 2, Addr: 0x8000,
		Children: []Variable{strVar("Label", "a long label", 12),
			{Name: "Points", Type: "[]main.Point", Kind: reflect.Slice, Len: 2, Cap: 2, Base: 0x9000, Addr: 0x8010,
				Children: []Variable{longPoint, point}}}}
	cases := []struct {
		name      string
		v         Variable
		one, many string
	}{
		{"int", intVar("a", "3"), "3", "3"},
		{"truncated string", strVar("s", "abc", 10), `"abc...+7 more"`, `"abc...+7 more"`},
		{"struct", point, `main.Point {X: 3, Y: 4, Name: "pt"}`, `main.Point {X: 3, Y: 4, Name: "pt"}`},
		{"struct with long string", longPoint, `main.Point {X: 3, Y: 4, Name: "a long name"}`,
			"main.Point {\n\tX: 3,\n\tY: 4,\n\tName: \"a long name\",}"},
		{"partial slice", slice, "[]int len: 5, cap: 8, [1,2,3,...+2 more]", "[]int len: 5, cap: 8, [1,2,3,...+2 more]"},
		{"nil slice", nilSlice, "[]int len: 0, cap: 0, nil", "[]int len: 0, cap: 0, nil"},
		{"map", m, `map[string]int ["k": 9, ]`, "map[string]int [\n\t\"k\": 9, \n]"},
		{"pointer", ptr, `*main.Point {X: 3, Y: 4, Name: "pt"}`, "(*main.Point)(0x3000)\n*main.Point {X: 3, Y: 4, Name: \"pt\"}"},
		{"nested", nested,
			`main.Box {Label: "a long label", Points: []main.Point len: 2, cap: 2, [{X: 3, Y: 4, Name: "a long name"},{X: 3, Y: 4, Name: "pt"}]}`,
			"main.Box {\n\tLabel: \"a long label\",\n\tPoints: []main.Point len: 2, cap: 2, [\n\t\t{\n\t\t\tX: 3,\n\t\t\tY: 4,\n\t\t\tName: \"a long name\",},\n\t\t{X: 3, Y: 4, Name: \"pt\"},\n\t],}"},
		{"unreadable", Variable{Unreadable: "bad address"}, "(unreadable bad address)", "(unreadable bad address)"},
	}
	for _, c := range cases {
		if got := c.v.SinglelineString(); got != c.one {
			t.Errorf("%s: SinglelineString = %q, want %q", c.name, got, c.one)
		}
		if got := c.v.MultilineString("", ""); got != c.many {
			t.Errorf("%s: MultilineString = %q, want %q", c.name, got, c.many)
		}
	}
	v := intVar("a", "255")
	if got := v.MultilineString("", "%x"); got != "ff" {
		t.Errorf("print %%x 255 = %q, want ff", got)
	}
}

func TestClosureCapturesMultiline(t *testing.T) {
	v := Variable{Name: "c", Kind: reflect.Func, Type: "func() int", Value: "main.makeCounter.func1",
		Children: []Variable{{Name: "n", Kind: reflect.Int, Type: "int", Value: "11"}}}
	if got, want := v.MultilineString("", ""), "main.makeCounter.func1 {\n\tn int = 11\n}"; got != want {
		t.Errorf("multi-line closure:\n%s\nwant\n%s", got, want)
	}
	if got, want := v.SinglelineString(), "main.makeCounter.func1"; got != want {
		t.Errorf("one-line closure: %q, want %q", got, want)
	}
}

// FormatVar reuses its wire tree's slice between calls: trees smaller and
// larger than the last one, and one larger than is kept, must render as a
// fresh conversion does.
func TestFormatVarReusesTree(t *testing.T) {
	tree := func(n int) *value.Variable {
		v := &value.Variable{Type: "[]main.T", Kind: reflect.Slice, Len: int64(n), Cap: int64(n), Base: 0x1000, Addr: 0x2000}
		for i := 0; i < n; i++ {
			v.Children = append(v.Children, value.Variable{Type: "main.T", Kind: reflect.Struct, Len: 1, Addr: 0x3000,
				Children: []value.Variable{{Name: "N", Type: "int", Kind: reflect.Int, Value: strconv.Itoa(i), Addr: 0x3000}}})
		}
		return v
	}
	for _, n := range []int{3, 300, 1, 5000, 40} {
		v := tree(n)
		want := ConvertVar(v)
		if got := FormatVar(v); got != want.SinglelineString() {
			t.Fatalf("%d elements: FormatVar = %.200q, want %.200q", n, got, want.SinglelineString())
		}
	}
	if got := FormatVar(tree(2)); got != "[]main.T len: 2, cap: 2, [{N: 0},{N: 1}]" {
		t.Fatalf("FormatVar = %q", got)
	}
}

// TestAppendQuoteIsStrconvs proves the printer's quoting fast path writes
// what strconv.AppendQuote writes, for every byte alone and amid ASCII.
func TestAppendQuoteIsStrconvs(t *testing.T) {
	cases := []string{"", "plain text 0123456789 ~!@#$%^&*()", `a"b`, `a\b`, "tab\there", "é", "\xff", "\u2028", "\x7f"}
	for c := 0; c < 256; c++ {
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for _, s := range cases {
		if got, want := string(appendQuote([]byte("<"), s)), string(strconv.AppendQuote([]byte("<"), s)); got != want {
			t.Errorf("appendQuote(%q) = %s, want %s", s, got, want)
		}
	}
}
