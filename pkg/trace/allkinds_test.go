package trace

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// allKinds is every function of the allkinds fixture: one kind of value
// each.
const allKinds = `^main\.(str|longStr|point|pointPtr|list|strs|points|ptrs|arr|structArr|shape|anyv|fail|ints|nested|bigMap|chained|growing|channel|fn|request|bytesv|floats)$`

// traceFixture traces fixture name built as fl with either backend and
// returns the text.
func traceFixture(t *testing.T, name string, fl fixture.Flavour, opts Options) (string, Summary) {
	t.Helper()
	opts.Exec = fixture.Build(t, name, fl)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	opts.Stdout = devnull
	var buf bytes.Buffer
	sum, err := Run(context.Background(), opts, NewTextWriter(&buf))
	if err != nil {
		t.Fatalf("trace (ebpf %v): %v", opts.EBPF, err)
	}
	return buf.String(), sum
}

// TestBackendsAgreeAllKinds traces a call per kind of value with both
// backends, at depth 1, on every flavour and toolchain: every line must be
// the same. Where the eBPF tracer cannot see a value (a float argument in
// an X register, which uprobes do not save) the line is left out of the
// comparison and must say so.
func TestBackendsAgreeAllKinds(t *testing.T) {
	requireBPF(t)
	var flavours []fixture.Flavour
	for _, tc := range fixture.Toolchains {
		flavours = append(flavours, fixture.Flavour{Toolchain: tc}, fixture.Flavour{Optimized: true, PIE: true, Toolchain: tc})
	}
	for _, fl := range flavours {
		t.Run(fl.Name(), func(t *testing.T) {
			ptext, psum := traceFixture(t, "allkinds", fl, Options{Regexp: allKinds, Depth: 1})
			etext, esum := traceFixture(t, "allkinds", fl, Options{Regexp: allKinds, Depth: 1, EBPF: true})
			for _, want := range allKindsLines {
				if !strings.Contains(sortBigMap(ptext), want+"\n") {
					t.Errorf("ptrace trace lacks %q", want)
				}
			}
			// Heap addresses differ from run to run.
			hex := regexp.MustCompile(`0x[0-9a-f]+`)
			plines := strings.Split(sortBigMap(hex.ReplaceAllString(ptext, "0x?")), "\n")
			elines := strings.Split(sortBigMap(hex.ReplaceAllString(etext, "0x?")), "\n")
			if len(plines) != len(elines) {
				t.Fatalf("ptrace:\n%s\nebpf:\n%s", ptext, etext)
			}
			for i := range plines {
				if plines[i] != elines[i] && !floatInRegister(elines[i]) {
					t.Errorf("line %d:\nebpf   %s\nptrace %s", i, elines[i], plines[i])
				}
			}
			if esum.Dropped != 0 || esum.Events != psum.Events || esum.Events != 2*29 {
				t.Errorf("ebpf summary %+v, ptrace %+v", esum, psum)
			}
		})
	}
}

// floatInRegister reports an eBPF line whose only difference may be a
// float result or argument in an X register.
func floatInRegister(line string) bool {
	return strings.Contains(line, "held in a floating-point register")
}

// allKindsLines are lines both backends must print (ptrace's checked here,
// eBPF's by equality).
var allKindsLines = []string{
	`> goroutine(1): main.str("hello")`,
	`> goroutine(1): main.pointPtr(*main.Point {X: 3, Y: 4, Name: "q"})`,
	`> goroutine(1): main.strs([]string len: 3, cap: 3, ["x","yy","zzz"])`,
	`> goroutine(1): main.fail(error(*errors.errorString) *{s: "plain failure"})`,
	`> goroutine(1): main.channel(chan int 1/4)`,
	`> goroutine(1): main.fn(main.double)`,
	`> goroutine(1): main.ptrs([]*main.Point len: 2, cap: 2, [*{X: 5, Y: 6, Name: "c"},*nil])`,
	`> goroutine(1): main.structArr([2]main.Point [{X: 7, Y: 8, Name: "d"},{X: 9, Y: 10, Name: "e"}])`,
	`> goroutine(1): main.shape(main.Shape(*main.Circle) *{R: 1.5})`,
	`>> goroutine(1): main.anyv => (interface {}(main.Point) {X: 0.5, Y: 0.25, Name: "in any"})`,
	`> goroutine(1): main.fail(error(*fmt.wrapError) *{msg: "wrapped: file does not exist", err: error(*errors.errorString) *{s: "file does not exist"}})`,
	`> goroutine(1): main.fail(error(*io/fs.PathError) *{Op: "open", Path: "/nowhere", Err: error(*errors.errorString) *{s: "file does not exist"}})`,
	`> goroutine(1): main.ints(map[string]int ["one": 1, "two": 2, ])`,
	`> goroutine(1): main.nested(map[int][]string [7: ["seven"], ])`,
	`> goroutine(1): main.bigMap(map[string]int ["k00": 0, "k01": 1, "k02": 2, "k03": 3, "k04": 4, "k05": 5, "k06": 6, "k07": 7, "k08": 8, "k09": 9, "k10": 10, "k11": 11, "k12": 12, "k13": 13, "k14": 14, "k15": 15, "k16": 16, "k17": 17, "k18": 18, "k19": 19, ])`,
	// With go1.22 some of its buckets have overflow buckets two deep.
	`> goroutine(1): main.chained(map[string]int ["o00": 0, "o01": 1, "o02": 2, "o03": 3, "o04": 4, "o05": 5, "o06": 6, "o07": 7, "o08": 8, "o09": 9, "o10": 10, "o11": 11, "o12": 12, "o13": 13, "o14": 14, "o15": 15, "o16": 16, "o17": 17, "o18": 18, "o19": 19, "o20": 20, "o21": 21, "o22": 22, "o23": 23, "o24": 24, "o25": 25, "o26": 26, "o27": 27, "o28": 28, "o29": 29, "o30": 30, "o31": 31, "o32": 32, "o33": 33, "o34": 34, "o35": 35, "o36": 36, "o37": 37, "o38": 38, "o39": 39, "o40": 40, "o41": 41, "o42": 42, "o43": 43, "o44": 44, "o45": 45, "o46": 46, "o47": 47, "o48": 48, "o49": 49, ])`,
	// With go1.22 it is caught growing, most entries in its old buckets.
	`> goroutine(1): main.growing(map[string]int ["g00": 0, "g01": 1, "g02": 2, "g03": 3, "g04": 4, "g05": 5, "g06": 6, "g07": 7, "g08": 8, "g09": 9, "g10": 10, "g11": 11, "g12": 12, "g13": 13, "g14": 14, "g15": 15, "g16": 16, "g17": 17, "g18": 18, "g19": 19, "g20": 20, "g21": 21, "g22": 22, "g23": 23, "g24": 24, "g25": 25, "g26": 26, "g27": 27, "g28": 28, "g29": 29, "g30": 30, "g31": 31, "g32": 32, "g33": 33, "g34": 34, "g35": 35, "g36": 36, "g37": 37, "g38": 38, "g39": 39, "g40": 40, "g41": 41, "g42": 42, "g43": 43, "g44": 44, "g45": 45, "g46": 46, "g47": 47, "g48": 48, "g49": 49, "g50": 50, "g51": 51, "g52": 52, ])`,
	`> goroutine(1): main.request(*main.Request {Method: "GET", Path: "/x", Query: "a=1", Header: map[string][]string ["Accept": ["*/*"], ], Body: []uint8 len: 4, cap: 4, [98,111,100,121], Remote: "127.0.0.1:1234", Port: 80, Opts: *main.Options {Verbose: true, Level: 3, Name: "opts"}, TLS: *main.Options nil})`,
	`> goroutine(1): main.floats([]float64 len: 3, cap: 3, [0.5,10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000,-3])`,
}

// TestBackendsAgreeAllKindsDepths repeats the comparison at other depths:
// none (pointers as addresses), 2 and 3 (pointees' pointees, interfaces
// inside dynamic values), with the running Go and with go1.22, whose maps
// have overflow buckets.
func TestBackendsAgreeAllKindsDepths(t *testing.T) {
	requireBPF(t)
	hex := regexp.MustCompile(`0x[0-9a-f]+`)
	for _, tc := range []struct {
		depth int
		fl    fixture.Flavour
	}{{-1, fixture.Flavour{}}, {2, fixture.Flavour{}}, {3, fixture.Flavour{}}, {2, fixture.Flavour{Toolchain: "go1.22.12"}}, {3, fixture.Flavour{Toolchain: "go1.22.12"}}} {
		depth, fl := tc.depth, tc.fl
		t.Run(strconv.Itoa(depth)+"-"+fl.Name(), func(t *testing.T) {
			ptext, _ := traceFixture(t, "allkinds", fl, Options{Regexp: allKinds, Depth: depth})
			etext, esum := traceFixture(t, "allkinds", fl, Options{Regexp: allKinds, Depth: depth, EBPF: true})
			plines := strings.Split(sortBigMap(hex.ReplaceAllString(ptext, "0x?")), "\n")
			elines := strings.Split(sortBigMap(hex.ReplaceAllString(etext, "0x?")), "\n")
			if len(plines) != len(elines) || esum.Events != 2*29 {
				t.Fatalf("ptrace:\n%s\nebpf:\n%s", ptext, etext)
			}
			for i := range plines {
				if plines[i] != elines[i] && !floatInRegister(elines[i]) {
					t.Errorf("line %d:\nebpf   %s\nptrace %s", i, elines[i], plines[i])
				}
			}
		})
	}
}

// sortBigMap sorts the entries of the map arguments of bigMap, chained and
// growing (20, 50 and 53 entries): their order follows each run's hash seed.
func sortBigMap(text string) string {
	const end = ", ])"
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		for _, open := range []string{"main.bigMap(map[string]int [", "main.chained(map[string]int [", "main.growing(map[string]int ["} {
			j := strings.Index(l, open)
			if j < 0 || !strings.HasSuffix(l, end) {
				continue
			}
			entries := strings.Split(l[j+len(open):len(l)-len(end)], ", ")
			sort.Strings(entries)
			lines[i] = l[:j+len(open)] + strings.Join(entries, ", ") + end
		}
	}
	return strings.Join(lines, "\n")
}
