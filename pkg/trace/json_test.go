package trace

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"
	"time"
	"unsafe"
)

// TestJSONMatchesEncodingJSON: the hand-written encoder writes, byte for
// byte, what encoding/json (HTML escaping off) writes for the JSONEvent of
// each event: every field combination, and strings with quotes,
// backslashes, every control byte, DEL, invalid UTF-8, U+2028/9,
// random bytes, and every byte amid plain ASCII.
func TestJSONMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `q"uo\te`, "<a&b>", "\x7f", "\xff\xfe", "é中\U0001F600", "a\u2028b\u2029c", "\xe2\x80"}
	var ctl []byte
	for c := 0; c < 0x20; c++ {
		ctl = append(ctl, byte(c))
	}
	strs = append(strs, string(ctl))
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		b := make([]byte, rng.Intn(24))
		rng.Read(b)
		strs = append(strs, string(b))
	}
	// Every byte at each place of the eight-byte blocks the encoder skips
	// at once, and long mostly-plain strings.
	for c := 0; c < 256; c++ {
		for _, at := range []int{0, 3, 7, 8, 15, 16} {
			b := []byte("abcdefghijklmnopq")
			b[at] = byte(c)
			strs = append(strs, string(b))
		}
	}
	for i := 0; i < 200; i++ {
		b := make([]byte, 8+rng.Intn(64))
		for j := range b {
			b[j] = byte(' ' + rng.Intn(95))
			if rng.Intn(20) == 0 {
				b[j] = byte(rng.Intn(256))
			}
		}
		strs = append(strs, string(b))
	}
	var evs []*Event
	for i, s := range strs {
		call := &Event{Kind: Call, Goroutine: int64(i), Thread: 7, Function: s, Time: time.Duration(i) * time.Microsecond,
			Values: []Value{{Name: s, Type: "string", Value: s}, {Name: "n", Type: "int", Value: "1"}}}
		// The same event twice: the second meets the writer's quoted
		// strings of the first.
		evs = append(evs, call, call,
			&Event{Kind: Return, Goroutine: -1, Function: "f", Duration: 5, Values: []Value{{Name: "~r0", Value: s}}, Inlined: true},
			&Event{Kind: Return, Function: s, Unpaired: true, Truncated: true},
			&Event{Kind: Call, Function: "g", Stack: []Frame{{PC: 1 << 63, Function: s, File: s, Line: 12}, {PC: 3}}})
		// Kept texts, and a shorter one at the same address.
		kept := &Event{Kind: Call, Function: "k", Values: []Value{{Name: "a", Value: s, Kept: true}, {Name: "b", Value: s[:len(s)/2], Kept: true}}}
		evs = append(evs, kept, kept)
	}
	var got bytes.Buffer
	jw := NewJSONWriter(&got)
	for _, ev := range evs {
		if err := jw.Event(ev); err != nil {
			t.Fatal(err)
		}
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	for _, ev := range evs {
		if err := enc.Encode(reflectJSON(ev)); err != nil {
			t.Fatal(err)
		}
	}
	gl, wl := bytes.Split(got.Bytes(), []byte("\n")), bytes.Split(want.Bytes(), []byte("\n"))
	if len(gl) != len(wl) {
		t.Fatalf("%d lines, want %d", len(gl), len(wl))
	}
	for i := range gl {
		if !bytes.Equal(gl[i], wl[i]) {
			t.Fatalf("line %d:\ngot  %s\nwant %s", i, gl[i], wl[i])
		}
	}
}

// reflectJSON is the JSONEvent of ev, as the writer described it before
// it encoded by hand.
func reflectJSON(ev *Event) JSONEvent {
	out := JSONEvent{Kind: ev.Kind.String(), Goroutine: ev.Goroutine, Thread: ev.Thread,
		Function: ev.Function, TimeNs: ev.Time.Nanoseconds(), Unpaired: ev.Unpaired, Inlined: ev.Inlined, Truncated: ev.Truncated}
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
	return out
}

// TestJSONQuotedSurvivesReusedBuffer writes values whose text shares one
// buffer, rewritten between events as a recycled batch's is: the writer
// must encode what each event holds, not what it kept of the last.
func TestJSONQuotedSurvivesReusedBuffer(t *testing.T) {
	buf := []byte(`"ab"`)
	text := unsafe.String(&buf[0], len(buf))
	var got bytes.Buffer
	jw := NewJSONWriter(&got)
	for _, s := range []string{`"ab"`, `"cd"`, `"cd"`, `"ab"`} {
		copy(buf, s)
		if err := jw.Event(&Event{Kind: Call, Function: "f", Values: []Value{{Name: "s", Type: "string", Value: text}}}); err != nil {
			t.Fatal(err)
		}
	}
	want := ""
	for _, s := range []string{`ab`, `cd`, `cd`, `ab`} {
		want += `{"kind":"call","goroutine":0,"thread":0,"function":"f","args":[{"name":"s","type":"string","value":"\"` + s + `\""}],"time_ns":0}` + "\n"
	}
	if got.String() != want {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want)
	}
}
