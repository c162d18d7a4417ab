package trace

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// JSONWriter writes one JSON object per event (JSON Lines); the schema is
// documented in FORMAT.md.
type JSONWriter struct {
	w    *bufio.Writer
	out  io.Writer // what w writes to
	buf  []byte    // the line being encoded, reused
	hold bool      // flushes are left to the backend (holdFlushes)
	// The strings that repeat from one call (or return) to the next,
	// kept quoted: escaping them anew cost a third of each event's
	// encoding. Calls and returns alternate, so each kind has its own.
	quoted [2]eventStrings
	// kept holds the encodings of kept values' texts (Value.Kept), by
	// the address of their bytes: the reader reuses a hot function's
	// texts from a few, and escaping them was a third of a big event.
	kept map[*byte]keptText
}

// keptText is a kept value's text and its JSON encoding.
type keptText struct {
	text string // holds the bytes, so that no other text takes the address
	enc  []byte
}

// maxKeptTexts bounds JSONWriter.kept; it starts over when full.
const maxKeptTexts = 4096

// appendValue appends v's text quoted.
func (j *JSONWriter) appendValue(b []byte, v *Value) []byte {
	if !v.Kept || v.Value == "" {
		return appendJSONString(b, v.Value)
	}
	p := unsafe.StringData(v.Value)
	if k, ok := j.kept[p]; ok && len(k.text) == len(v.Value) {
		return append(b, k.enc...)
	}
	if j.kept == nil || len(j.kept) >= maxKeptTexts {
		j.kept = make(map[*byte]keptText)
	}
	start := len(b)
	b = appendJSONString(b, v.Value)
	j.kept[p] = keptText{text: v.Value, enc: append([]byte(nil), b[start:]...)}
	return b
}

// eventStrings are the quoted strings of the last event of one kind.
type eventStrings struct {
	kind, function quoted
	names, types   []quoted // per argument or result, by position
}

// quoted is the JSON encoding of the last string appended through it.
// It keeps the string itself, so only strings never rewritten go through
// it: kinds, function, argument and type names. A value's text may live
// in a batch's buffer, reused once the batch is written (appendValue).
type quoted struct {
	s   string
	enc []byte
}

// append appends s quoted, encoding it only when it is not the string
// quoted last time.
func (q *quoted) append(b []byte, s string) []byte {
	if q.enc == nil || s != q.s {
		q.s, q.enc = s, appendJSONString(q.enc[:0], s)
	}
	return append(b, q.enc...)
}

// NewJSONWriter writes JSON Lines to w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	return &JSONWriter{w: bufio.NewWriter(w), out: w}
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
	Truncated  bool        `json:"truncated,omitempty"`
	Stack      []JSONFrame `json:"stack,omitempty"`
}

// Event implements Sink. It writes the bytes encoding/json writes for the
// event as a JSONEvent (field order, omitted empty fields, escapes), by
// hand: reflection cost more per event than decoding it did.
// TestJSONMatchesEncodingJSON holds the two equal.
func (j *JSONWriter) Event(ev *Event) error {
	q := &j.quoted[0]
	if ev.Kind != Call {
		q = &j.quoted[1]
	}
	b := append(j.buf[:0], `{"kind":`...)
	b = q.kind.append(b, ev.Kind.String())
	b = append(b, `,"goroutine":`...)
	b = strconv.AppendInt(b, ev.Goroutine, 10)
	b = append(b, `,"thread":`...)
	b = strconv.AppendInt(b, int64(ev.Thread), 10)
	b = append(b, `,"function":`...)
	b = q.function.append(b, ev.Function)
	if len(ev.Values) > 0 {
		for len(q.names) < len(ev.Values) {
			q.names, q.types = append(q.names, quoted{}), append(q.types, quoted{})
		}
		if ev.Kind == Call {
			b = append(b, `,"args":[`...)
		} else {
			b = append(b, `,"returns":[`...)
		}
		for i, v := range ev.Values {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = q.names[i].append(b, v.Name)
			b = append(b, `,"type":`...)
			b = q.types[i].append(b, v.Type)
			b = append(b, `,"value":`...)
			b = j.appendValue(b, &v)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"time_ns":`...)
	b = strconv.AppendInt(b, ev.Time.Nanoseconds(), 10)
	if ev.Kind != Call && !ev.Unpaired {
		b = append(b, `,"duration_ns":`...)
		b = strconv.AppendInt(b, ev.Duration.Nanoseconds(), 10)
	}
	if ev.Unpaired {
		b = append(b, `,"unpaired":true`...)
	}
	if ev.Inlined {
		b = append(b, `,"inlined":true`...)
	}
	if ev.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	if len(ev.Stack) > 0 {
		b = append(b, `,"stack":[`...)
		for i, f := range ev.Stack {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"pc":`...)
			b = strconv.AppendUint(b, f.PC, 10)
			b = append(b, `,"function":`...)
			b = appendJSONString(b, f.Function)
			b = append(b, `,"file":`...)
			b = appendJSONString(b, f.File)
			b = append(b, `,"line":`...)
			b = strconv.AppendInt(b, int64(f.Line), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, "}\n"...)
	j.buf = b
	if err := writeWhole(j.w, b); err != nil {
		return err
	}
	if j.hold {
		return nil
	}
	return j.w.Flush()
}

// appendJSONString appends s as encoding/json quotes it without HTML
// escaping: quotes, backslashes and control bytes escaped, invalid UTF-8
// as U+FFFD, and U+2028 and U+2029 escaped for JavaScript.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		i = skipPlain(s, i)
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// skipPlain is the index of the first block of eight bytes of s from i
// on that may need escaping, or of the last, shorter block: most of a
// trace's JSON is its values' text, plain ASCII, and the byte loop cost a
// cycle or more per byte. A block is plain when all its bytes are ASCII
// at or above a space and none is a quote or a backslash; each test below
// is the word-at-a-time "has a byte less than n" (a byte equal to q is a
// zero byte of x^q), exact for bytes under 0x80, which x&highs excludes.
func skipPlain(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q, bs := x^('"'*ones), x^('\\'*ones)
		if (x|(x-0x20*ones)&^x|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			break
		}
	}
	return i
}

func (j *JSONWriter) holdFlushes() { j.hold, j.w = true, grow(j.w, j.out) }

// keepsNothing implements streamer: Event copies what it writes.
func (j *JSONWriter) keepsNothing() {}

// flush implements batcher.
func (j *JSONWriter) flush() error { return j.w.Flush() }

// Close implements Sink.
func (j *JSONWriter) Close() error { return j.w.Flush() }
