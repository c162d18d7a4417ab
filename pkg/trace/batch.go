package trace

import (
	"bufio"
	"io"
	"time"
)

// batcher is a sink that can stop flushing after every event and flush
// when told instead. The eBPF backend uses it: the program never stops at
// a probe, so a flush per event orders nothing and would cost a write
// system call (and a wake-up of whoever reads the output) per call.
type batcher interface {
	holdFlushes()
	flush() error
}

// flushInterval bounds how long a held event waits before it is written,
// so a quiet trace still shows up promptly.
const flushInterval = 10 * time.Millisecond

// holdFlushes makes sink, or every sink of a Multi, flush only when the
// returned function is called. It returns nil when no sink can hold.
func holdFlushes(sink Sink) func() error {
	var held []batcher
	var collect func(s Sink)
	collect = func(s Sink) {
		switch s := s.(type) {
		case Multi:
			for _, m := range s {
				collect(m)
			}
		case batcher:
			s.holdFlushes()
			held = append(held, s)
		}
	}
	collect(sink)
	if len(held) == 0 {
		return nil
	}
	return func() error {
		for _, b := range held {
			if err := b.flush(); err != nil {
				return err
			}
		}
		return nil
	}
}

// heldBufferSize is the output buffer of a sink whose flushes are held: a
// line of a request at depth 1 is some 5 KB, more than bufio's default, so
// the default buffer wrote every line by itself.
const heldBufferSize = 64 << 10

// writeWhole writes one event's line through w so that it reaches the
// output in one write: when it does not fit in what the buffer has left,
// the buffer is flushed first. A line cut across two writes can have the
// program's own output (on the same stderr) land in its middle.
func writeWhole(w *bufio.Writer, b []byte) error {
	if w.Buffered() > 0 && len(b) > w.Available() {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	_, err := w.Write(b)
	return err
}

// grow gives a held sink writing to out through w a buffer of
// heldBufferSize over out. Sinks are held before their first event; one
// that holds output already keeps its buffer, so that nothing written and
// no write error is lost.
func grow(w *bufio.Writer, out io.Writer) *bufio.Writer {
	if w.Size() >= heldBufferSize || w.Buffered() > 0 {
		return w
	}
	return bufio.NewWriterSize(out, heldBufferSize)
}
