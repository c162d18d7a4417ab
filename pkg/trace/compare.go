package trace

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// Comparison is one program traced once under each backend: what each
// saw and cost, and every value the two showed differently for the same
// call or return.
type Comparison struct {
	Ptrace, EBPF Side
	// Paired counts the events found under both backends.
	Paired int
	Diffs  []Diff
}

// Side is what one backend's trace measured.
type Side struct {
	Summary Summary
	// MaxDepth is the most pointers followed in one value; Bytes is the
	// value data loaded in all events: scalars, pointers and the bytes of
	// strings, as the loader read them.
	MaxDepth int
	Bytes    uint64
	events   []compared
}

// Diff is one value, or one whole event, the backends disagree on. The
// event is named by goroutine, function, kind and its number among that
// goroutine's events of that function and kind (1 for the first).
// Goroutines pair by the order they first appear in each trace: the ids
// of one program differ between the two runs (the ptrace backend's start
// costs the runtime a goroutine or not), their order does not.
type Diff struct {
	Goroutine     int64 // the ptrace trace's id; 0 when it lacks the event
	EBPFGoroutine int64 // the eBPF trace's id; 0 when it lacks the event
	Function      string
	Kind          Kind
	Seq           int
	Name          string // the value's name; "" when the event is on one side only
	Ptrace        string // the text each backend printed; "(no event)" when absent
	EBPF          string
}

func (d Diff) String() string {
	g := fmt.Sprint(d.Goroutine)
	switch {
	case d.Goroutine == 0:
		g = fmt.Sprintf("(ebpf %d)", d.EBPFGoroutine)
	case d.EBPFGoroutine != d.Goroutine && d.EBPFGoroutine != 0:
		g += fmt.Sprintf(" (ebpf %d)", d.EBPFGoroutine)
	}
	what := fmt.Sprintf("goroutine %s %s %s %d", g, d.Function, d.Kind, d.Seq)
	if d.Name != "" {
		what += " " + d.Name
	}
	return fmt.Sprintf("differs: %s: ptrace %s | ebpf %s", what, d.Ptrace, d.EBPF)
}

// compared is an event as the comparison keeps it: its key and its
// values' text.
type compared struct {
	key       eventKey
	goroutine int64 // the id the backend reported
	values    []Value
}

type eventKey struct {
	goroutine int // the goroutine's rank of first appearance

	function string
	kind     Kind
	seq      int
}

// noEvent stands for the side an event is missing from.
const noEvent = "(no event)"

// Compare runs the program of opts (it must be started, not attached:
// it runs twice) first under the ptrace backend, then under eBPF, at the
// same depth, and compares the two traces.
func Compare(ctx context.Context, opts Options) (Comparison, error) {
	var c Comparison
	if opts.Pid != 0 {
		return c, fmt.Errorf("--compare runs the program once per backend: it cannot attach to a running process")
	}
	for _, side := range []struct {
		ebpf bool
		s    *Side
	}{{false, &c.Ptrace}, {true, &c.EBPF}} {
		o := opts
		o.EBPF, o.Lossy = side.ebpf, false
		o.observe = side.s.measure
		sink := &collector{side: side.s, seq: map[eventKey]int{}, rank: map[int64]int{}}
		sum, err := Run(ctx, o, sink)
		side.s.Summary = sum
		if err != nil {
			return c, fmt.Errorf("%s backend: %w", sum.Backend, err)
		}
		if ctx.Err() != nil {
			return c, ctx.Err()
		}
	}
	c.Paired, c.Diffs = diff(c.Ptrace.events, c.EBPF.events)
	return c, nil
}

// measure records how deep each value of ev went and what it loaded.
func (s *Side) measure(ev *Event) {
	for _, v := range ev.Values {
		if v.Var != nil {
			d, b := extent(v.Var)
			s.MaxDepth = max(s.MaxDepth, d)
			s.Bytes += b
		}
	}
}

// extent returns the most pointers followed below v and the bytes of
// value data loaded in it.
func extent(v *value.Variable) (depth int, bytes uint64) {
	if v.Unreadable != nil || v.OnlyAddr {
		return 0, 0
	}
	switch v.Kind {
	case reflect.String:
		bytes = uint64(len(v.Value))
	case reflect.Struct, reflect.Array, reflect.Slice, reflect.Map, reflect.Interface:
		// their words are counted in their parts
	default:
		if v.DwarfType != nil {
			bytes = uint64(max(v.DwarfType.Size(), 0))
		}
	}
	for i := range v.Children {
		d, b := extent(&v.Children[i])
		depth, bytes = max(depth, d), bytes+b
	}
	if v.Kind == reflect.Pointer && len(v.Children) > 0 && v.Children[0].Unreadable == nil && !v.Children[0].OnlyAddr {
		depth++
	}
	return depth, bytes
}

// collector keeps every event of one trace for the comparison.
type collector struct {
	side *Side
	seq  map[eventKey]int
	rank map[int64]int
}

func (k *collector) Event(ev *Event) error {
	r, ok := k.rank[ev.Goroutine]
	if !ok {
		r = len(k.rank) + 1
		k.rank[ev.Goroutine] = r
	}
	key := eventKey{goroutine: r, function: ev.Function, kind: ev.Kind}
	k.seq[key]++
	key.seq = k.seq[key]
	k.side.events = append(k.side.events, compared{key: key, goroutine: ev.Goroutine, values: ev.Values})
	return nil
}

func (k *collector) Close() error { return nil }

// diff pairs the events of the two traces by goroutine, function, kind and
// sequence, and lists every value that differs, in the ptrace trace's
// order, then the events only eBPF saw.
func diff(p, e []compared) (paired int, out []Diff) {
	byKey := make(map[eventKey]*compared, len(e))
	for i := range e {
		byKey[e[i].key] = &e[i]
	}
	mk := func(k eventKey, pg, eg int64, name, pv, ev string) Diff {
		return Diff{Goroutine: pg, EBPFGoroutine: eg, Function: k.function, Kind: k.kind, Seq: k.seq, Name: name, Ptrace: pv, EBPF: ev}
	}
	for _, pe := range p {
		ee, ok := byKey[pe.key]
		if !ok {
			out = append(out, mk(pe.key, pe.goroutine, 0, "", valuesText(pe.values), noEvent))
			continue
		}
		delete(byKey, pe.key)
		paired++
		n := max(len(pe.values), len(ee.values))
		for i := 0; i < n; i++ {
			pv, ev := valueAt(pe.values, i), valueAt(ee.values, i)
			if pv.typ != ev.typ {
				pv.text, ev.text = typed(pv), typed(ev)
			}
			if withoutAddrs(pv.text) != withoutAddrs(ev.text) {
				out = append(out, mk(pe.key, pe.goroutine, ee.goroutine, firstNonEmpty(pv.name, ev.name), pv.text, ev.text))
			}
		}
	}
	for _, ee := range e {
		if _, ok := byKey[ee.key]; ok {
			out = append(out, mk(ee.key, 0, ee.goroutine, "", noEvent, valuesText(ee.values)))
		}
	}
	return paired, out
}

type namedText struct{ name, typ, text string }

// hexAddr is an address as values print it: (*T)(0x…), a func's or an
// unsafe.Pointer's.
var hexAddr = regexp.MustCompile(`0x[0-9a-f]+`)

// withoutAddrs is a value's text with its addresses masked: each run of
// the program has a heap of its own, so where a pointer points says
// nothing about the backends, and comparing it made every event differ.
func withoutAddrs(s string) string {
	if !strings.Contains(s, "0x") {
		return s
	}
	return hexAddr.ReplaceAllString(s, "0x…")
}

// valueAt is the i-th value's name, type and text as a sink prints it;
// "(none)" past the end.
func valueAt(vs []Value, i int) namedText {
	if i >= len(vs) {
		return namedText{text: "(none)"}
	}
	name := vs[i].Name
	if name == "" {
		name = fmt.Sprintf("#%d", i)
	}
	return namedText{name: name, typ: vs[i].Type, text: vs[i].Value}
}

// typed is a value's text after its type, for values whose types differ.
func typed(v namedText) string {
	if v.typ == "" {
		return v.text
	}
	return v.typ + " " + v.text
}

func valuesText(vs []Value) string {
	var parts []string
	for _, v := range vs {
		parts = append(parts, v.Value)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// costText is a side's cost per event and how it was measured.
func (s Side) costText() string {
	sum := s.Summary
	switch {
	case sum.Cost.Source == CostPtraceHandler:
		return roundDur(sum.PerEvent()).String() + " stopped in probe handlers"
	case sum.Cost.Source == CostBPFRunTime:
		t := roundDur(sum.PerEvent()).String() + " in the BPF program"
		if sum.Held > 0 {
			t += fmt.Sprintf(", held %s", roundDur(sum.Held/time.Duration(max(sum.Events, 1))))
		}
		return t
	case sum.Cost.Missing != "":
		return "not measured (" + sum.Cost.Missing + ")"
	}
	return "not measured"
}

// Write prints the comparison side by side, then every difference.
func (c Comparison) Write(w io.Writer) error {
	rows := [][3]string{
		{"", "ptrace", "ebpf"},
		{"events", fmt.Sprint(c.Ptrace.Summary.Events), fmt.Sprint(c.EBPF.Summary.Events)},
		{"dropped", fmt.Sprint(c.Ptrace.Summary.Dropped), fmt.Sprint(c.EBPF.Summary.Dropped)},
		{"cost per event", c.Ptrace.costText(), c.EBPF.costText()},
		{"pointer depth (max)", fmt.Sprint(c.Ptrace.MaxDepth), fmt.Sprint(c.EBPF.MaxDepth)},
		{"value bytes loaded", fmt.Sprint(c.Ptrace.Bytes), fmt.Sprint(c.EBPF.Bytes)},
		{"end", c.Ptrace.Summary.ending(), c.EBPF.Summary.ending()},
	}
	w0, w1 := 0, 0
	for _, r := range rows {
		w0, w1 = max(w0, len([]rune(r[0]))), max(w1, len([]rune(r[1])))
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s  %s  %s\n", pad(r[0], w0), pad(r[1], w1), r[2])
	}
	fmt.Fprintf(&b, "%s in %s paired by goroutine and sequence (addresses not compared: each run has its own heap)\n",
		plural(len(c.Diffs), "difference"), plural(c.Paired, "event"))
	for _, d := range c.Diffs {
		b.WriteString(d.String() + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pad(s string, n int) string {
	return s + strings.Repeat(" ", max(0, n-len([]rune(s))))
}
