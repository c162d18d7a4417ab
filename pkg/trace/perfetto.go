package trace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// PerfettoWriter writes the Chrome trace-event JSON format, which
// ui.perfetto.dev and chrome://tracing open: one track per goroutine
// (tid = goroutine id) and one complete slice ("ph":"X") per call, with the
// arguments and results attached. Slices are written as their calls
// return, so the file is streamed rather than held in memory.
type PerfettoWriter struct {
	w     *bufio.Writer
	c     io.Closer // closed by Close when set
	first bool
	named map[int64]bool
	open  map[int64][]perfettoCall
	last  time.Duration
}

// perfettoCall is a call waiting for its return.
type perfettoCall struct {
	ev *Event
}

// perfettoPid is the process id written in the file: one traced process.
const perfettoPid = 1

// NewPerfettoWriter writes a trace to w; if w is an io.Closer, Close
// closes it.
func NewPerfettoWriter(w io.Writer) *PerfettoWriter {
	p := &PerfettoWriter{w: bufio.NewWriter(w), first: true,
		named: map[int64]bool{}, open: map[int64][]perfettoCall{}}
	if c, ok := w.(io.Closer); ok {
		p.c = c
	}
	p.w.WriteString(`{"displayTimeUnit":"ns","traceEvents":[`)
	p.write(map[string]any{"name": "process_name", "ph": "M", "pid": perfettoPid,
		"args": map[string]any{"name": "tinydbg trace"}})
	return p
}

// Needs implements the sink's load hint: slices carry the values.
func (p *PerfettoWriter) Needs() Needs { return Needs{Values: true} }

func (p *PerfettoWriter) write(obj map[string]any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encoding a trace event: %w", err)
	}
	if !p.first {
		p.w.WriteString(",")
	}
	p.first = false
	p.w.WriteString("\n")
	_, err = p.w.Write(b)
	return err
}

// micros converts to the format's microseconds, keeping nanoseconds.
func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

// Event implements Sink.
func (p *PerfettoWriter) Event(ev *Event) error {
	p.last = max(p.last, ev.Time)
	g := ev.Goroutine
	if !p.named[g] {
		p.named[g] = true
		if err := p.write(map[string]any{"name": "thread_name", "ph": "M", "pid": perfettoPid, "tid": g,
			"args": map[string]any{"name": fmt.Sprintf("goroutine %d", g)}}); err != nil {
			return err
		}
	}
	if ev.Kind == Call {
		p.open[g] = append(p.open[g], perfettoCall{ev: ev})
		return nil
	}
	if ev.Unpaired {
		return nil // its call was not seen: no open call is its own
	}
	calls := p.open[g]
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].ev.Function == ev.Function {
			err := p.slice(calls[i].ev, ev, ev.Time-calls[i].ev.Time)
			p.open[g] = calls[:i]
			return err
		}
	}
	return nil // a return without its call has no slice to close
}

// slice writes one call; ret is nil for a call that never returned.
func (p *PerfettoWriter) slice(call, ret *Event, dur time.Duration) error {
	args := map[string]any{}
	for _, v := range call.Values {
		args[v.Name] = v.Value
	}
	if ret != nil {
		for i, v := range ret.Values {
			name := v.Name
			if name == "" || name[0] == '~' {
				name = fmt.Sprintf("ret%d", i)
			}
			args["return "+name] = v.Value
		}
	} else {
		args["unfinished"] = true
	}
	return p.write(map[string]any{"name": call.Function, "cat": "call", "ph": "X", "pid": perfettoPid,
		"tid": call.Goroutine, "ts": micros(call.Time), "dur": micros(dur), "args": args})
}

// Close ends still-open calls at the last event seen, finishes the JSON
// document and closes the file.
func (p *PerfettoWriter) Close() error {
	for _, calls := range p.open {
		for _, c := range calls {
			if err := p.slice(c.ev, nil, p.last-c.ev.Time); err != nil {
				return err
			}
		}
	}
	p.open = map[int64][]perfettoCall{}
	p.w.WriteString("\n]}\n")
	err := p.w.Flush()
	if p.c != nil {
		if cerr := p.c.Close(); err == nil {
			err = cerr
		}
		p.c = nil
	}
	return err
}
