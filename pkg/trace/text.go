package trace

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// TextWriter prints events one line each, in the shape of Delve's trace:
//
//	> goroutine(7): main.work(3, "job-3", *main.Item {Weight: 3, Tag: "t0"})
//	>> goroutine(7): main.work => (3008,error nil)
type TextWriter struct {
	w *bufio.Writer
	// Timestamps prefixes each line with the wall-clock time of the event
	// (RFC 3339 with nanoseconds), as Delve's --timestamp does.
	Timestamps bool
	// Start is the wall-clock time that Event.Time counts from.
	Start time.Time
	// Verbose prints "name: value" instead of bare values.
	Verbose bool
}

// NewTextWriter writes text events to w.
func NewTextWriter(w io.Writer) *TextWriter {
	return &TextWriter{w: bufio.NewWriter(w), Start: time.Now()}
}

// Needs implements the sink's load hint: values are printed.
func (t *TextWriter) Needs() Needs { return Needs{Values: true} }

// Event implements Sink. Lines are flushed at once so that the trace and
// the program's own output interleave in the order they happened.
func (t *TextWriter) Event(ev *Event) error {
	if t.Timestamps {
		t.w.WriteString(t.Start.Add(ev.Time).Format(time.RFC3339Nano) + " ")
	}
	vals := make([]string, len(ev.Values))
	for i, v := range ev.Values {
		vals[i] = v.Value
		if t.Verbose {
			vals[i] = v.Name + ": " + v.Value
		}
	}
	if ev.Kind == Call {
		fmt.Fprintf(t.w, "> goroutine(%d): %s(%s)\n", ev.Goroutine, ev.Function, strings.Join(vals, ", "))
		if len(ev.Stack) > 0 {
			t.w.WriteString("\n") // Delve separates a call's stack by a blank line
		}
	} else {
		fmt.Fprintf(t.w, ">> goroutine(%d): %s => (%s)\n", ev.Goroutine, ev.Function, strings.Join(vals, ","))
	}
	if len(ev.Stack) > 0 {
		t.w.WriteString("\tStack:\n")
		for i, f := range ev.Stack {
			fmt.Fprintf(t.w, "\t\t%d  %#016x in %s\n\t\t     at %s:%d\n", i, f.PC, f.Function, f.File, f.Line)
		}
		if ev.StackTruncated {
			t.w.WriteString("\t\t(truncated)\n")
		}
	}
	return t.w.Flush()
}

// Close implements Sink.
func (t *TextWriter) Close() error { return t.w.Flush() }
