package trace

import (
	"bytes"
	"strings"
	"testing"
)

// writeLog records each Write it is given.
type writeLog struct {
	writes [][]byte
}

func (l *writeLog) Write(p []byte) (int, error) {
	l.writes = append(l.writes, append([]byte(nil), p...))
	return len(p), nil
}

// TestWritesEndAtLines: with flushes held (a batch at a time), every
// write a writer makes ends at the end of a line, however the 5 KB lines
// of a deep request fall in its buffer: a line cut across two writes can
// have the program's own stderr land in its middle.
func TestWritesEndAtLines(t *testing.T) {
	long := strings.Repeat("x", 6000)
	type heldSink interface {
		Sink
		batcher
	}
	textLog, jsonLog := &writeLog{}, &writeLog{}
	for _, c := range []struct {
		s   heldSink
		log *writeLog
	}{{NewTextWriter(textLog), textLog}, {NewJSONWriter(jsonLog), jsonLog}} {
		s, log := c.s, c.log
		s.holdFlushes()
		for i := 0; i < 40; i++ {
			ev := &Event{Kind: Call, Goroutine: 1, Function: "main.f", Values: []Value{{Name: "s", Type: "string", Value: long[:4000+i*37]}}}
			if err := s.Event(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.flush(); err != nil {
			t.Fatal(err)
		}
		if len(log.writes) < 3 {
			t.Fatalf("%T: %d writes of 40 lines of 4-5.5 KB: the buffer was not exercised", s, len(log.writes))
		}
		var all bytes.Buffer
		for i, w := range log.writes {
			if !bytes.HasSuffix(w, []byte("\n")) {
				t.Errorf("%T: write %d of %d ends mid-line: ...%q", s, i+1, len(log.writes), w[max(0, len(w)-20):])
			}
			all.Write(w)
		}
		if n := bytes.Count(all.Bytes(), []byte("\n")); n != 40 {
			t.Errorf("%T: %d lines written, want 40", s, n)
		}
	}
}
