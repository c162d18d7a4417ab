package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// flavours covers -N -l and optimized code, PIE and non-PIE.
var flavours = []fixture.Flavour{{}, {Optimized: true}, {PIE: true}, {Optimized: true, PIE: true}}

const traced = `main\.(work|weigh)$`

// runTrace traces the traceprog fixture with the given sinks.
func runTrace(t *testing.T, fl fixture.Flavour, opts Options, sink Sink) Summary {
	t.Helper()
	testenv.RequirePtrace(t)
	opts.Exec = fixture.Build(t, "traceprog", fl)
	if opts.Regexp == "" {
		opts.Regexp = traced
	}
	if opts.Depth == 0 {
		opts.Depth = 1
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	opts.Stdout = devnull
	sum, err := Run(context.Background(), opts, sink)
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	return sum
}

// goroutinesOf finds the goroutines that ran job 2 and job 3 in a text
// trace: their ids depend on the runtime, the interleaving does not.
func goroutinesOf(t *testing.T, text string) (g2, g3 string) {
	t.Helper()
	m2 := regexp.MustCompile(`> goroutine\((\d+)\): main\.work\(2,`).FindStringSubmatch(text)
	m3 := regexp.MustCompile(`> goroutine\((\d+)\): main\.work\(3,`).FindStringSubmatch(text)
	if m2 == nil || m3 == nil || m2[1] == m3[1] || m2[1] == "1" || m3[1] == "1" {
		t.Fatalf("job goroutines not found or not distinct in:\n%s", text)
	}
	return m2[1], m3[1]
}

// wantText is the whole trace of the default scenario; G2 and G3 stand
// for the goroutines of jobs 2 and 3.
const wantText = `> goroutine(1): main.work(1, "job-1", *main.Item {Weight: 1, Tag: "t1"})
> goroutine(1): main.weigh(*main.Item {Weight: 1, Tag: "t1"})
>> goroutine(1): main.weigh => (4)
>> goroutine(1): main.work => (1004,error nil)
> goroutine(G2): main.work(2, "job-2", *main.Item {Weight: 2, Tag: "t2"})
> goroutine(G3): main.work(3, "job-3", *main.Item {Weight: 3, Tag: "t0"})
> goroutine(G2): main.weigh(*main.Item {Weight: 2, Tag: "t2"})
>> goroutine(G2): main.weigh => (6)
>> goroutine(G2): main.work => (6,error(*errors.errorString) *{s: "job 2 failed"})
> goroutine(G3): main.weigh(*main.Item {Weight: 3, Tag: "t0"})
>> goroutine(G3): main.weigh => (8)
>> goroutine(G3): main.work => (3008,error nil)
`

func expand(s, g2, g3 string) string {
	return strings.NewReplacer("G2", g2, "G3", g3).Replace(s)
}

func TestTextAllFlavours(t *testing.T) {
	for _, fl := range flavours {
		t.Run(fl.Name(), func(t *testing.T) {
			var buf bytes.Buffer
			sum := runTrace(t, fl, Options{}, NewTextWriter(&buf))
			g2, g3 := goroutinesOf(t, buf.String())
			if got, want := buf.String(), expand(wantText, g2, g3); got != want {
				t.Fatalf("trace:\n%s\nwant:\n%s", got, want)
			}
			// Two entries, the RET of weigh and the two RETs of work
			// (its early return for job 2 has its own).
			want := Summary{Backend: "ptrace", Funcs: 2, Probes: 5, Events: 12, Exited: true}
			if costOf(t, sum) != want {
				t.Fatalf("summary %+v, want %+v", sum, want)
			}
		})
	}
}

func TestDepthZeroAndVerbose(t *testing.T) {
	var buf bytes.Buffer
	tw := NewTextWriter(&buf)
	tw.Verbose = true
	runTrace(t, fixture.Flavour{}, Options{Regexp: `^main\.weigh$`, Depth: -1}, tw)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("got %d lines:\n%s", len(lines), buf.String())
	}
	if !regexp.MustCompile(`^> goroutine\(1\): main\.weigh\(it: \(\*main\.Item\)\(0x[0-9a-f]+\)\)$`).MatchString(lines[0]) {
		t.Fatalf("depth 0 should print the pointer only: %q", lines[0])
	}
	if lines[1] != ">> goroutine(1): main.weigh => (~r0: 4)" {
		t.Fatalf("verbose return: %q", lines[1])
	}
}

func TestJSONEvents(t *testing.T) {
	var buf bytes.Buffer
	runTrace(t, fixture.Flavour{Optimized: true}, Options{}, NewJSONWriter(&buf))
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		evs = append(evs, m)
	}
	if len(evs) != 12 {
		t.Fatalf("got %d events", len(evs))
	}
	var last float64
	open := map[string]float64{}
	for i, m := range evs {
		ts := m["time_ns"].(float64)
		if ts < last {
			t.Fatalf("event %d goes back in time", i)
		}
		last = ts
		if th, ok := m["thread"].(float64); !ok || th <= 0 {
			t.Fatalf("event %d has no thread: %v", i, m)
		}
		key := fmt.Sprint(m["goroutine"], m["function"])
		if m["kind"] == "call" {
			open[key] = ts
			if _, ok := m["duration_ns"]; ok {
				t.Fatalf("call %d has a duration", i)
			}
		} else {
			d, ok := m["duration_ns"].(float64)
			if !ok || d <= 0 || d != ts-open[key] {
				t.Fatalf("return %d: duration %v, want %v", i, m["duration_ns"], ts-open[key])
			}
			delete(open, key)
		}
		delete(m, "time_ns")
		delete(m, "thread")
		delete(m, "duration_ns")
	}
	if len(open) != 0 {
		t.Fatalf("calls without returns: %v", open)
	}
	got, _ := json.Marshal(evs[0])
	want := `{"args":[{"name":"n","type":"int","value":"1"},{"name":"name","type":"string","value":"\"job-1\""},{"name":"it","type":"*main.Item","value":"*main.Item {Weight: 1, Tag: \"t1\"}"}],"function":"main.work","goroutine":1,"kind":"call"}`
	if string(got) != want {
		t.Fatalf("first event\n%s\nwant\n%s", got, want)
	}
	g2 := evs[4]["goroutine"]
	got, _ = json.Marshal(evs[8])
	want = fmt.Sprintf(`{"function":"main.work","goroutine":%v,"kind":"return","returns":[{"name":"~r0","type":"int","value":"6"},{"name":"~r1","type":"error","value":"error(*errors.errorString) *{s: \"job 2 failed\"}"}]}`, g2)
	if string(got) != want {
		t.Fatalf("job 2's return\n%s\nwant\n%s", got, want)
	}
}

var durations = regexp.MustCompile(`[0-9.]+(ns|µs|ms|s)\n`)

func TestGraph(t *testing.T) {
	var buf bytes.Buffer
	runTrace(t, fixture.Flavour{}, Options{}, NewGraphWriter(&buf))
	got := durations.ReplaceAllString(buf.String(), "D\n")
	ids := regexp.MustCompile(`goroutine\((\d+)\):`).FindAllStringSubmatch(got, -1)
	if len(ids) != 3 || ids[1][1] == ids[2][1] || ids[1][1] == "1" {
		t.Fatalf("graph:\n%s", buf.String())
	}
	tree := "main.work() {\n  main.weigh() { } D\n} D\n"
	want := "goroutine(1):\n" + tree + "goroutine(" + ids[1][1] + "):\n" + tree + "goroutine(" + ids[2][1] + "):\n" + tree
	if got != want {
		t.Fatalf("graph:\n%s\nwant:\n%s", got, want)
	}
}

func TestPerfetto(t *testing.T) {
	file := filepath.Join(t.TempDir(), "trace.json")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	runTrace(t, fixture.Flavour{PIE: true}, Options{}, Multi{NewTextWriter(&text), NewPerfettoWriter(f)})
	g2, g3 := goroutinesOf(t, text.String())
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []struct {
			Name string         `json:"name"`
			Ph   string         `json:"ph"`
			Tid  int64          `json:"tid"`
			Ts   float64        `json:"ts"`
			Dur  float64        `json:"dur"`
			Args map[string]any `json:"args"`
		} `json:"traceEvents"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("perfetto file does not parse: %v\n%s", err, b)
	}
	var slices []string
	type span struct{ ts, end float64 }
	spans := map[string]span{}
	for _, e := range doc.TraceEvents {
		switch e.Ph {
		case "M":
			continue
		case "X":
		default:
			t.Fatalf("unexpected phase %q", e.Ph)
		}
		if e.Dur <= 0 {
			t.Fatalf("slice %s has duration %v", e.Name, e.Dur)
		}
		key := fmt.Sprintf("%d %s", e.Tid, e.Name)
		spans[key] = span{e.Ts, e.Ts + e.Dur}
		slices = append(slices, fmt.Sprintf("%s n=%v it=%v ret=%v,%v", key, e.Args["n"], e.Args["it"], e.Args["return ret0"], e.Args["return ret1"]))
	}
	want := expand(`1 main.weigh n=<nil> it=*main.Item {Weight: 1, Tag: "t1"} ret=4,<nil>
1 main.work n=1 it=*main.Item {Weight: 1, Tag: "t1"} ret=1004,error nil
G2 main.weigh n=<nil> it=*main.Item {Weight: 2, Tag: "t2"} ret=6,<nil>
G2 main.work n=2 it=*main.Item {Weight: 2, Tag: "t2"} ret=6,error(*errors.errorString) *{s: "job 2 failed"}
G3 main.weigh n=<nil> it=*main.Item {Weight: 3, Tag: "t0"} ret=8,<nil>
G3 main.work n=3 it=*main.Item {Weight: 3, Tag: "t0"} ret=3008,error nil`, g2, g3)
	if got := strings.Join(slices, "\n"); got != want {
		t.Fatalf("slices:\n%s\nwant:\n%s", got, want)
	}
	for _, g := range []string{"1", g2, g3} {
		w, c := spans[g+" main.work"], spans[g+" main.weigh"]
		if c.ts < w.ts || c.end > w.end {
			t.Fatalf("goroutine %s: weigh %v is not inside work %v", g, c, w)
		}
	}
}

func TestStack(t *testing.T) {
	var buf bytes.Buffer
	runTrace(t, fixture.Flavour{}, Options{Regexp: `^main\.weigh$`, Stack: 2}, NewTextWriter(&buf))
	got := regexp.MustCompile(`0x[0-9a-f]{16}`).ReplaceAllString(buf.String(), "PC")
	src := fixture.Source("traceprog")
	first := fmt.Sprintf(`> goroutine(1): main.weigh(*main.Item {Weight: 1, Tag: "t1"})

	Stack:
		0  PC in main.weigh
		     at %s:52
		1  PC in main.work
		     at %s:43
		(truncated)
>> goroutine(1): main.weigh => (4)
	Stack:
		0  PC in main.weigh
		     at %s:53
		1  PC in main.work
		     at %s:43
		(truncated)
`, src, src, src, src)
	if !strings.HasPrefix(got, first) {
		t.Fatalf("stack trace:\n%s\nwant prefix:\n%s", got, first)
	}
}
