package trace

import (
	"bufio"
	"encoding/json"
	"io"
)

// JSONWriter writes one JSON object per event (JSON Lines); the schema is
// documented in FORMAT.md.
type JSONWriter struct {
	w    *bufio.Writer
	enc  *json.Encoder
	hold bool // flushes are left to the backend (holdFlushes)
}

// NewJSONWriter writes JSON Lines to w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &JSONWriter{w: bw, enc: enc}
}

// Needs implements the sink's load hint: values are written.
func (j *JSONWriter) Needs() Needs { return Needs{Values: true} }

// JSONValue is one argument or result in the JSON output.
type JSONValue struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// JSONFrame is one stack frame in the JSON output.
type JSONFrame struct {
	PC       uint64 `json:"pc"`
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
}

// JSONEvent is the object written for one event.
type JSONEvent struct {
	Kind       string      `json:"kind"`
	Goroutine  int64       `json:"goroutine"`
	Thread     int         `json:"thread"`
	Function   string      `json:"function"`
	Args       []JSONValue `json:"args,omitempty"`
	Returns    []JSONValue `json:"returns,omitempty"`
	TimeNs     int64       `json:"time_ns"`
	DurationNs *int64      `json:"duration_ns,omitempty"`
	Unpaired   bool        `json:"unpaired,omitempty"`
	Inlined    bool        `json:"inlined,omitempty"`
	Stack      []JSONFrame `json:"stack,omitempty"`
}

// Event implements Sink.
func (j *JSONWriter) Event(ev *Event) error {
	out := JSONEvent{Kind: ev.Kind.String(), Goroutine: ev.Goroutine, Thread: ev.Thread,
		Function: ev.Function, TimeNs: ev.Time.Nanoseconds(), Unpaired: ev.Unpaired, Inlined: ev.Inlined}
	vals := make([]JSONValue, len(ev.Values))
	for i, v := range ev.Values {
		vals[i] = JSONValue{Name: v.Name, Type: v.Type, Value: v.Value}
	}
	if ev.Kind == Call {
		out.Args = vals
	} else {
		out.Returns = vals
		if !ev.Unpaired {
			d := ev.Duration.Nanoseconds()
			out.DurationNs = &d
		}
	}
	for _, f := range ev.Stack {
		out.Stack = append(out.Stack, JSONFrame(f))
	}
	if err := j.enc.Encode(out); err != nil {
		return err
	}
	if j.hold {
		return nil
	}
	return j.w.Flush()
}

// holdFlushes implements batcher.
func (j *JSONWriter) holdFlushes() { j.hold = true }

// flush implements batcher.
func (j *JSONWriter) flush() error { return j.w.Flush() }

// Close implements Sink.
func (j *JSONWriter) Close() error { return j.w.Flush() }
