package value_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// The expected texts were taken from Delve v1.27.2 (`print` and `vars`)
// on the same fixture; addresses are filled in from the target.
var oneLine = map[string]string{
	"vBool":      `true`,
	"vInt":       `-42`,
	"vInt8":      `-8`,
	"vInt16":     `1600`,
	"vInt32":     `-320000`,
	"vInt64":     `1099511627776`,
	"vUint":      `42`,
	"vUint8":     `255`,
	"vUint16":    `65535`,
	"vUint32":    `4000000000`,
	"vUint64":    `18446744073709551615`,
	"vUintptr":   `4660`,
	"vRune":      `233`,
	"vFloat32":   `3.14`,
	"vFloat64":   `2.718281828`,
	"vNaN":       `NaN`,
	"vInf":       `-Inf`,
	"vC64":       `(1.5 + -2i)`,
	"vC128":      `(0.25 + 4i)`,
	"vColor":     `Green (1)`,
	"vStr":       `"hello, 世界"`,
	"vStrEsc":    `"tab\there \"q\"\n"`,
	"vStrBad":    `"ok\xff\xfeend"`,
	"vStrLong":   `"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl...+36 more"`,
	"vStrNil":    `""`,
	"vArr":       `[3]int [1,2,3]`,
	"vArr2":      `[2][2]string [["a","b"],["c","d"]]`,
	"vSlice":     `[]int len: 3, cap: 3, [1,2,3]`,
	"vSliceCap":  `[]int len: 2, cap: 10, [0,0]`,
	"vSliceNil":  `[]int len: 0, cap: 0, nil`,
	"vSliceBig":  `[]int len: 100, cap: 100, [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,...+36 more]`,
	"vBytes":     `[]uint8 len: 2, cap: 2, [104,105]`,
	"vPoints":    `[]main.Point len: 2, cap: 2, [{X: 1, Y: 2, Name: "a"},{X: 3, Y: 0, Name: ""}]`,
	"vAnys":      `[]interface {} len: 4, cap: 4, [1,"s",nil,*main.Point {X: 4, Y: 0, Name: ""}]`,
	"vColors":    `[2]main.Color [Red (0),Blue (2)]`,
	"vPoint":     `main.Point {X: 3, Y: 4, Name: "pt"}`,
	"vOuter":     `main.Outer {Point: main.Point {X: 1, Y: 2, Name: "in"}, Z: 9, Tags: []string len: 1, cap: 1, ["x"]}`,
	"vPtr":       `*main.Point {X: 3, Y: 4, Name: "pt"}`,
	"vPtrNil":    `*main.Point nil`,
	"vPtrPtr":    `**main.Point {X: 3, Y: 4, Name: "pt"}`,
	"vList":      `*main.Node {V: 1, Next: *main.Node {V: 2, Next: *(*main.Node)(%#x)}}`, // %#x: vList
	"vMapSmall":  `map[string]int ["one": 1, "two": 2, ]`,
	"vMapNil":    `map[string]int nil`,
	"vMapEmpty":  `map[int]bool []`,
	"vMapPtr":    `map[string]*main.Point ["p": *{X: 7, Y: 8, Name: "m"}, ]`,
	"vChan":      `chan int 2/3`,
	"vChanNil":   `chan string nil`,
	"vFunc":      `fmt.Sprintf`,
	"vFuncNil":   `nil`,
	"vClosure":   `main.main.func1`,
	"vErr":       `error(*errors.errorString) *{s: "boom"}`,
	"vErrNil":    `error nil`,
	"vAny":       `interface {}(int) 42`,
	"vAnyPoint":  `interface {}(main.Point) {X: 5, Y: 6, Name: "ip"}`,
	"vAnyPtr":    `interface {}(*main.Point) *{X: 1, Y: 1, Name: "pp"}`,
	"vAnyNil":    `interface {} nil`,
	"vStringer":  `fmt.Stringer(main.Celsius) 21.5`,
	"vPair":      `main.Pair[string,int] {Key: "k", Val: 1}`,
	"vUnsafe":    `unsafe.Pointer(%#x)`, // %#x: &vInt
	"vUnsafeNil": `unsafe.Pointer(0x0)`,
}

// multiLine holds Delve's print output for values that spread over lines.
var multiLine = map[string]string{
	"vArr2":     "[2][2]string [\n\t[\"a\",\"b\"],\n\t[\"c\",\"d\"],\n]",
	"vPoints":   "[]main.Point len: 2, cap: 2, [\n\t{X: 1, Y: 2, Name: \"a\"},\n\t{X: 3, Y: 0, Name: \"\"},\n]",
	"vAnys":     "[]interface {} len: 4, cap: 4, [\n\t1,\n\t\"s\",\n\tnil,\n\t*main.Point {X: 4, Y: 0, Name: \"\"},\n]",
	"vOuter":    "main.Outer {\n\tPoint: main.Point {X: 1, Y: 2, Name: \"in\"},\n\tZ: 9,\n\tTags: []string len: 1, cap: 1, [\"x\"],}",
	"vMapSmall": "map[string]int [\n\t\"one\": 1, \n\t\"two\": 2, \n]",
	"vMapPtr":   "map[string]*main.Point [\n\t\"p\": *{X: 7, Y: 8, Name: \"m\"}, \n]",
	"vPtr":      "(*main.Point)(%#x)\n*main.Point {X: 3, Y: 4, Name: \"pt\"}", // %#x: vPtr
	"vList":     "(*main.Node)(%#x)\n*main.Node {\n\tV: 1,\n\tNext: *main.Node {\n\t\tV: 2,\n\t\tNext: *(*main.Node)(%#[1]x),},}",
	"vErr":      `error(*errors.errorString) *{s: "boom"}`,
}

// mutated are the variables main assigns, which every build keeps.
var mutated = map[string]bool{"vList": true, "vSliceBig": true, "vMapBig": true, "vStrLong": true, "vChan": true, "vClosure": true}

// flavours are the builds each test runs on: every toolchain unoptimized,
// and the current one optimized too.
func flavours() []fixture.Flavour {
	var fs []fixture.Flavour
	for _, tc := range fixture.Toolchains {
		fs = append(fs, fixture.Flavour{Toolchain: tc})
	}
	return append(fs, fixture.Flavour{Optimized: true})
}

func TestFormatMatchesDelve(t *testing.T) {
	for _, f := range flavours() {
		t.Run(f.Name(), func(t *testing.T) {
			tg := startValues(t, f)
			addr := func(name string, deref bool) uint64 {
				g, ok := tg.vars[name]
				if !ok {
					return 0
				}
				if deref {
					return tg.word(t, g.addr)
				}
				return g.addr
			}
			addrs := map[string]uint64{
				"vList":   addr("main.vList", true),
				"vUnsafe": addr("main.vInt", false),
				"vPtr":    addr("main.vPtr", true),
			}
			expand := func(name, want string) string {
				if strings.Contains(want, "%#") {
					return fmt.Sprintf(want, addrs[name])
				}
				return want
			}
			// The optimizer may fold never-written variables into
			// constants; those written by main must survive.
			present := func(name string) bool {
				if _, ok := tg.vars["main."+name]; ok {
					return true
				}
				if !f.Optimized || mutated[name] {
					t.Errorf("variable main.%s missing from DWARF", name)
				}
				return false
			}
			for name, want := range oneLine {
				if !present(name) {
					continue
				}
				v := tg.load(t, name, value.DefaultLoadConfig)
				if got, want := api.FormatVar(v), expand(name, want); got != want {
					t.Errorf("%s:\n got %s\nwant %s", name, got, want)
				}
			}
			for name, want := range multiLine {
				if !present(name) {
					continue
				}
				v := tg.load(t, name, value.DefaultLoadConfig)
				if got, want := api.FormatVarMultiline(v), expand(name, want); got != want {
					t.Errorf("%s (multiline):\n got %s\nwant %s", name, got, want)
				}
			}
		})
	}
}

// TestBigMap checks a map that needs many buckets or Swiss tables: the
// first 64 entries are loaded, each consistent with m[i] = i*i, distinct,
// and the rest is counted.
func TestBigMap(t *testing.T) {
	for _, f := range flavours() {
		t.Run(f.Name(), func(t *testing.T) {
			tg := startValues(t, f)
			v := tg.load(t, "vMapBig", value.DefaultLoadConfig)
			if v.Unreadable != nil {
				t.Fatal(v.Unreadable)
			}
			if v.Len != 100 || len(v.Children) != 128 || !v.Truncated() {
				t.Fatalf("len %d, %d children, truncated %v; want 100, 128, true", v.Len, len(v.Children), v.Truncated())
			}
			s := api.FormatVar(v)
			if !strings.HasPrefix(s, "map[int]int [") || !strings.HasSuffix(s, ", ,...+36 more]") {
				t.Errorf("bad framing: %s", s)
			}
			seen := map[int64]bool{}
			for i := 0; i < len(v.Children); i += 2 {
				k, _ := strconv.ParseInt(v.Children[i].Value, 10, 64)
				val, _ := strconv.ParseInt(v.Children[i+1].Value, 10, 64)
				if k < 0 || k >= 100 || val != k*k || seen[k] {
					t.Errorf("entry %d: %s: %s", i/2, v.Children[i].Value, v.Children[i+1].Value)
				}
				seen[k] = true
			}
			// A full load finds every key exactly once.
			cfg := value.DefaultLoadConfig
			cfg.MaxArrayValues = 1000
			all := tg.load(t, "vMapBig", cfg)
			keys := map[string]bool{}
			for i := 0; i < len(all.Children); i += 2 {
				keys[all.Children[i].Value] = true
			}
			if len(all.Children) != 200 || len(keys) != 100 || all.Truncated() {
				t.Errorf("full load: %d children, %d distinct keys", len(all.Children), len(keys))
			}
		})
	}
}

// TestLimits checks that each LoadConfig bound truncates the way Delve
// marks it.
func TestLimits(t *testing.T) {
	tg := startValues(t, fixture.Flavour{})
	cases := []struct {
		name string
		cfg  func(*value.LoadConfig)
		want string
	}{
		{"vPoint", func(c *value.LoadConfig) { c.MaxStructFields = 2 }, `main.Point {X: 3, Y: 4,...+1 more}`},
		{"vStr", func(c *value.LoadConfig) { c.MaxStringLen = 3 }, `"hel...+10 more"`},
		{"vSlice", func(c *value.LoadConfig) { c.MaxArrayValues = 2 }, `[]int len: 3, cap: 3, [1,2,...+1 more]`},
		{"vSlice", func(c *value.LoadConfig) { c.MaxArrayValues = 0 }, `[]int len: 3, cap: 3, [...]`},
		{"vMapSmall", func(c *value.LoadConfig) { c.MaxArrayValues = 1 }, `map[string]int ["one": 1, ,...+1 more]`},
		{"vPtr", func(c *value.LoadConfig) { c.FollowPointers = false }, fmt.Sprintf(`(*main.Point)(%#x)`, tg.word(t, tg.vars["main.vPtr"].addr))},
		{"vOuter", func(c *value.LoadConfig) { c.MaxVariableRecurse = 0 }, fmt.Sprintf(`main.Outer {Point: (*main.Point)(%#x), Z: 9, Tags: []string len: 1, cap: 1, ["x"]}`, tg.vars["main.vOuter"].addr)},
		{"vMapSmall", func(c *value.LoadConfig) { c.MaxVariableRecurse = -1 }, `map[string]int [...]`},
		{"vAnyPoint", func(c *value.LoadConfig) { c.MaxVariableRecurse = -1 }, fmt.Sprintf(`interface {}(main.Point) *(*interface {})(%#x)`, tg.vars["main.vAnyPoint"].addr)},
	}
	for _, c := range cases {
		cfg := value.DefaultLoadConfig
		c.cfg(&cfg)
		if got := api.FormatVar(tg.load(t, c.name, cfg)); got != c.want {
			t.Errorf("%s %+v:\n got %s\nwant %s", c.name, cfg, got, c.want)
		}
	}
}
