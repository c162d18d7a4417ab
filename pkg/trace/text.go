package trace

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"
)

// TextWriter prints events one line each, in the shape of Delve's trace:
//
//	> goroutine(7): main.work(3, "job-3", *main.Item {Weight: 3, Tag: "t0"})
//	>> goroutine(7): main.work => (3008,error nil)
//	> goroutine(7): main.add(3, (unreadable optimized out)) (inlined)
//	>> goroutine(7): main.add => () (inlined)
//
// Delve's trace prints a call of an inlined copy unmarked (under its
// caller's name) and no return for it; the suffix tells it apart.
type TextWriter struct {
	w   *bufio.Writer
	out io.Writer // what w writes to
	// Timestamps prefixes each line with the wall-clock time of the event
	// (RFC 3339 with nanoseconds), as Delve's --timestamp does.
	Timestamps bool
	// Start is the wall-clock time that Event.Time counts from.
	Start time.Time
	// Verbose prints "name: value" instead of bare values.
	Verbose bool

	hold bool   // flushes are left to the backend (holdFlushes)
	num  []byte // scratch for building a line
}

// NewTextWriter writes text events to w.
func NewTextWriter(w io.Writer) *TextWriter {
	return &TextWriter{w: bufio.NewWriter(w), out: w, Start: time.Now()}
}

// Needs implements the sink's load hint: values are printed.
func (t *TextWriter) Needs() Needs { return Needs{Values: true} }

// Event implements Sink. Lines are flushed at once so that the trace and
// the program's own output interleave in the order they happened, unless
// the backend holds flushes (see holdFlushes).
func (t *TextWriter) Event(ev *Event) error {
	w := t.w
	// The line is built in one buffer and written once: with --ebpf this
	// runs for every call of a hot function, and each bufio call costs.
	b := t.num[:0]
	if t.Timestamps {
		b = t.Start.Add(ev.Time).AppendFormat(b, time.RFC3339Nano)
		b = append(b, ' ')
	}
	sep := ", "
	if ev.Kind == Call {
		b = append(b, "> goroutine("...)
	} else {
		b = append(b, ">> goroutine("...)
		sep = ","
	}
	b = strconv.AppendInt(b, ev.Goroutine, 10)
	b = append(b, "): "...)
	b = append(b, ev.Function...)
	if ev.Kind == Call {
		b = append(b, '(')
	} else {
		b = append(b, " => ("...)
	}
	for i, v := range ev.Values {
		if i > 0 {
			b = append(b, sep...)
		}
		if t.Verbose {
			b = append(b, v.Name...)
			b = append(b, ": "...)
		}
		b = append(b, v.Value...)
	}
	b = append(b, ')')
	if ev.Inlined {
		b = append(b, " (inlined)"...)
	}
	if ev.Unpaired {
		// Its call was not seen (tracing began mid-call, or --lossy
		// dropped it): the line must not pass for a paired return.
		b = append(b, " (unpaired)"...)
	}
	b = append(b, '\n')
	if len(b) <= maxKeptLine {
		t.num = b
	}
	if err := writeWhole(w, b); err != nil {
		return err
	}
	if ev.Kind == Call && len(ev.Stack) > 0 {
		w.WriteString("\n") // Delve separates a call's stack by a blank line
	}
	if len(ev.Stack) > 0 {
		w.WriteString("\tStack:\n")
		for i, f := range ev.Stack {
			fmt.Fprintf(w, "\t\t%d  %#016x in %s\n\t\t     at %s:%d\n", i, f.PC, f.Function, f.File, f.Line)
		}
		if ev.StackTruncated {
			w.WriteString("\t\t(truncated)\n")
		}
	}
	if t.hold {
		return nil
	}
	return w.Flush()
}

// maxKeptLine bounds the line buffer kept between events: one huge value
// must not pin its memory for the rest of the trace.
const maxKeptLine = 64 << 10

// holdFlushes implements batcher.
func (t *TextWriter) holdFlushes() { t.hold, t.w = true, grow(t.w, t.out) }

// keepsNothing implements streamer: Event copies what it prints.
func (t *TextWriter) keepsNothing() {}

// flush implements batcher.
func (t *TextWriter) flush() error { return t.w.Flush() }

// Close implements Sink.
func (t *TextWriter) Close() error { return t.w.Flush() }
