package trace

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
)

// compareFixture runs Compare on a fixture with its output discarded.
func compareFixture(t *testing.T, name string, opts Options) Comparison {
	t.Helper()
	requireBPF(t)
	opts.Exec = fixture.Build(t, name, fixture.Flavour{})
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	opts.Stdout = devnull
	c, err := Compare(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// costRow masks the one row whose figures are timings.
var costRow = regexp.MustCompile(`(?m)^cost per event .*$`)

// TestCompareFloatsInRegisters: floats passed in X registers are what the
// eBPF backend cannot read; the comparison lists each of them, and counts
// the bytes each backend loaded (ptrace: 2+1 float64, an int, a float32,
// a complex128 and a float64; eBPF: the int alone).
func TestCompareFloatsInRegisters(t *testing.T) {
	c := compareFixture(t, "fpregs", Options{Regexp: `^main\.(fpArgs|mixed)$`, Depth: 1})
	const unreadable = "(unreadable held in a floating-point register, which uprobes cannot read)"
	want := `                     ptrace                        ebpf
events               4                             4
dropped              0                             0
COST
pointer depth (max)  0                             0
value bytes loaded   60                            8
end                  program exited with status 0  program exited with status 0
6 differences in 4 events paired by goroutine and sequence (addresses not compared: each run has its own heap)
differs: goroutine 1 main.fpArgs call 1 a: ptrace float64 3.141592653589793 | ebpf U
differs: goroutine 1 main.fpArgs call 1 b: ptrace float64 -2.5 | ebpf U
differs: goroutine 1 main.fpArgs return 1 ~r0: ptrace float64 0.6415926535897931 | ebpf U
differs: goroutine 1 main.mixed call 1 f: ptrace float32 1.5 | ebpf U
differs: goroutine 1 main.mixed call 1 c: ptrace complex128 (0.25 + -4i) | ebpf U
differs: goroutine 1 main.mixed return 1 ~r0: ptrace float64 8.75 | ebpf U
`
	want = strings.ReplaceAll(want, " U\n", " "+unreadable+"\n")
	var buf bytes.Buffer
	if err := c.Write(&buf); err != nil {
		t.Fatal(err)
	}
	// The columns are as wide as the cost row, a timing: spaces are
	// compared as one.
	spaces := regexp.MustCompile(` +`)
	if got := spaces.ReplaceAllString(costRow.ReplaceAllString(buf.String(), "COST"), " "); got != spaces.ReplaceAllString(want, " ") {
		t.Fatalf("comparison:\n%s\nwant:\n%s", got, want)
	}
	if !regexp.MustCompile(`(?m)^cost per event +[0-9.]+[µm]?s stopped in probe handlers +[0-9.]+[nµm]?s in the BPF program$`).MatchString(buf.String()) {
		t.Errorf("cost row of:\n%s", buf.String())
	}
	if c.Ptrace.Summary.Cost.Hits != 4 || c.EBPF.Summary.Cost.Hits != 4 {
		t.Errorf("probe hits %d and %d, want 4 each", c.Ptrace.Summary.Cost.Hits, c.EBPF.Summary.Cost.Hits)
	}
}

// TestCompareAgrees: on traceprog the backends agree on every value; the
// goroutines of jobs 2 and 3 pair although their ids may differ between
// the runs. Pointers were followed once (depth 1), and the values loaded
// are the same 215 bytes: three work calls of 8+5+8+8+2, three weigh
// calls of 8+8+2, three weigh results of 8, and work's results, 3×8 plus
// job 2's error (a pointer and its 12-byte message).
func TestCompareAgrees(t *testing.T) {
	c := compareFixture(t, "traceprog", Options{Regexp: traced, Depth: 1, Args: []string{"exit", "7"}})
	for _, s := range []Side{c.Ptrace, c.EBPF} {
		if s.Summary.Events != 12 || s.MaxDepth != 1 || s.Bytes != 215 || s.Summary.ExitCode != 7 {
			t.Errorf("%s: %d events, depth %d, %d bytes, status %d; want 12, 1, 215, 7",
				s.Summary.Backend, s.Summary.Events, s.MaxDepth, s.Bytes, s.Summary.ExitCode)
		}
	}
	if c.Paired != 12 || len(c.Diffs) != 0 {
		t.Errorf("%d paired, differences %v", c.Paired, c.Diffs)
	}
}

// TestDiffPairing: events pair by goroutine rank, function, kind and
// sequence; a missing event and a different value are each one line.
func TestDiffPairing(t *testing.T) {
	collect := func(evs ...*Event) []compared {
		k := &collector{side: &Side{}, seq: map[eventKey]int{}, rank: map[int64]int{}}
		for _, ev := range evs {
			k.Event(ev)
		}
		return k.side.events
	}
	v := func(name, typ, val string) Value { return Value{Name: name, Type: typ, Value: val} }
	// Where a pointer points differs from run to run: not a difference.
	const pp, ep = "*main.T {mu: (*sync.Mutex)(0xc000012000), f: main.g}", "*main.T {mu: (*sync.Mutex)(0x2a40c0012000), f: main.g}"
	p := collect(
		&Event{Kind: Call, Goroutine: 6, Function: "main.f", Values: []Value{v("n", "int", "1"), v("t", "*main.T", pp)}},
		&Event{Kind: Call, Goroutine: 7, Function: "main.f", Values: []Value{v("n", "int", "2")}},
		&Event{Kind: Call, Goroutine: 7, Function: "main.f", Values: []Value{v("n", "int", "3")}},
	)
	e := collect(
		&Event{Kind: Call, Goroutine: 5, Function: "main.f", Values: []Value{v("n", "int", "1"), v("t", "*main.T", ep)}},
		&Event{Kind: Call, Goroutine: 6, Function: "main.f", Values: []Value{v("n", "", "(unreadable x)")}},
		&Event{Kind: Return, Goroutine: 6, Function: "main.f", Values: []Value{v("~r0", "int", "4")}},
	)
	paired, diffs := diff(p, e)
	var got []string
	for _, d := range diffs {
		got = append(got, d.String())
	}
	want := []string{
		"differs: goroutine 7 (ebpf 6) main.f call 1 n: ptrace int 2 | ebpf (unreadable x)",
		"differs: goroutine 7 main.f call 2: ptrace (3) | ebpf (no event)",
		"differs: goroutine (ebpf 6) main.f return 1: ptrace (no event) | ebpf (4)",
	}
	if paired != 2 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%d paired, differences:\n%s\nwant 2 and:\n%s", paired, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
