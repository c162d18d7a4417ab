package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/tinydbg/tinydbg/internal/rendertest"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// TestRenderTable: both backends report the table's text, and the text,
// JSON and Perfetto encoders write it unchanged (the call graph shows no
// values).
func TestRenderTable(t *testing.T) {
	for _, c := range rendertest.Cases() {
		// The ptrace backend hands over the value it loaded, and the
		// session renders it; an eBPF event is converted.
		ptraceEv := render(&Event{Kind: Call, Goroutine: 1, Function: "main.f",
			Values: []Value{{Name: "x", Type: c.Var.Type, Var: c.Var}}})
		ebpfEv := convertEBPF(Event{Kind: Call, Goroutine: 1, Function: "main.f",
			Values: []Value{{Name: "x", Var: c.Var}}}, 0)
		for backend, ev := range map[string]*Event{"ptrace": ptraceEv, "ebpf": ebpfEv} {
			if len(ev.Values) != 1 || ev.Values[0].Value != c.Want || ev.Values[0].Type != c.Var.Type || ev.Values[0].Var != nil {
				t.Errorf("%s, %s backend: values %+v, want %q of type %s", c.Name, backend, ev.Values, c.Want, c.Var.Type)
				continue
			}
			if got, want := encodeText(t, ev), "> goroutine(1): main.f("+c.Want+")\n"; got != want {
				t.Errorf("%s, %s backend: text %q, want %q", c.Name, backend, got, want)
			}
			if got := encodeJSON(t, ev); got != c.Want {
				t.Errorf("%s, %s backend: JSON value %q, want %q", c.Name, backend, got, c.Want)
			}
			if got := encodePerfetto(t, ev); got != c.Want {
				t.Errorf("%s, %s backend: Perfetto arg %q, want %q", c.Name, backend, got, c.Want)
			}
		}
	}
}

// TestRenderWithoutValue: a value a backend could not locate keeps the
// backend's text; one not captured says why.
func TestRenderWithoutValue(t *testing.T) {
	ev := render(&Event{Values: []Value{
		{Name: "a", Value: "(unreadable no register X3)"},
		{Name: "b", Unavailable: "returned by a tail call, whose callee computes the results"},
	}})
	if ev.Values[0].Value != "(unreadable no register X3)" ||
		ev.Values[1].Value != "(unreadable returned by a tail call, whose callee computes the results)" {
		t.Errorf("values %+v", ev.Values)
	}
}

func encodeText(t *testing.T, ev *Event) string {
	var b bytes.Buffer
	w := NewTextWriter(&b)
	if err := w.Event(ev); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func encodeJSON(t *testing.T, ev *Event) string {
	var b bytes.Buffer
	if err := NewJSONWriter(&b).Event(ev); err != nil {
		t.Fatal(err)
	}
	var out JSONEvent
	if err := json.Unmarshal(b.Bytes(), &out); err != nil || len(out.Args) != 1 {
		t.Fatalf("JSON line %q: %v", b.String(), err)
	}
	return out.Args[0].Value
}

// encodePerfetto writes the call and its return and reads the slice's
// argument back.
func encodePerfetto(t *testing.T, ev *Event) string {
	var b bytes.Buffer
	p := NewPerfettoWriter(&b)
	ret := &Event{Kind: Return, Goroutine: ev.Goroutine, Function: ev.Function}
	if err := p.Event(ev); err != nil {
		t.Fatal(err)
	}
	if err := p.Event(ret); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []struct {
			Ph   string         `json:"ph"`
			Args map[string]any `json:"args"`
		} `json:"traceEvents"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("Perfetto document %q: %v", b.String(), err)
	}
	for _, e := range doc.TraceEvents {
		if e.Ph == "X" {
			s, _ := e.Args["x"].(string)
			return s
		}
	}
	t.Fatalf("no slice in %q", b.String())
	return ""
}

// TestFormatVarScalars: the shortcut for numbers and bools writes what the
// shared printer writes, for every table case and for loaded scalars of
// each kind it takes, readable or not.
func TestFormatVarScalars(t *testing.T) {
	vars := []*value.Variable{
		{Kind: reflect.Int, Type: "int", Value: "-42"},
		{Kind: reflect.Uint, Type: "uint8", Value: "255"},
		{Kind: reflect.Bool, Type: "bool", Value: "true"},
		{Kind: reflect.Float64, Type: "float64", Value: "+Inf"},
		{Kind: reflect.Float32, Type: "float32", Value: "1.5"},
		{Kind: reflect.Int, Type: "main.Color", Value: "main.Red (0)"},
		{Kind: reflect.Int, Type: "int", Value: ""},
		{Kind: reflect.Int, Type: "int", Unreadable: errors.New("optimized out")},
		{Kind: reflect.Uint, Type: "uintptr", Value: "7", Addr: value.SyntheticBase},
	}
	for _, c := range rendertest.Cases() {
		vars = append(vars, c.Var)
	}
	for _, v := range vars {
		if got, want := formatVar(v), api.FormatVar(v); got != want {
			t.Errorf("%+v: %q, want %q", v, got, want)
		}
	}
}
