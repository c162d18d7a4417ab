// Package trace implements `tinydbg trace`: it reports every call of the
// functions matching a regular expression, and every return paired with
// its own call per goroutine, from one of two backends — int3 breakpoints
// driven through ptrace (a probe stops only the thread that hit it) or the eBPF
// uprobe engine (it never stops) — and writes the events as Delve-style
// text, JSON Lines, per-goroutine call graphs or a Perfetto trace.
package trace

import "time"

// Kind tells a call from a return.
type Kind uint8

// Event kinds.
const (
	Call Kind = iota
	Return
)

// String names the kind as the JSON output spells it.
func (k Kind) String() string {
	if k == Return {
		return "return"
	}
	return "call"
}

// Value is one argument or result, already formatted by the shared loader.
type Value struct {
	Name  string
	Type  string
	Value string // value.Format's text, or "(unreadable ...)"
}

// Frame is one frame of the stack printed with -s N.
type Frame struct {
	PC       uint64
	Function string
	File     string
	Line     int
}

// Event is one traced call or return.
type Event struct {
	Kind      Kind
	Goroutine int64
	Thread    int
	Function  string
	// Values are the arguments of a call or the results of a return.
	Values []Value
	// Time is when the probe fired, measured from the start of tracing.
	Time time.Duration
	// Duration is, on a paired return, the time since its own call.
	Duration time.Duration
	// Unpaired marks a return whose call was not seen (tracing started
	// mid-call, or a panic unwound the frames in between).
	Unpaired bool
	// Stack holds the frames asked for with -s N, innermost first;
	// StackTruncated says the goroutine had more.
	Stack          []Frame
	StackTruncated bool
}

// Sink consumes events in the order they happened.
type Sink interface {
	// Event handles one event; the sink may keep it.
	Event(ev *Event) error
	// Close flushes what the sink still holds (calls that never returned
	// included) once tracing has ended.
	Close() error
}

// Needs says which parts of an event a sink prints, so that a backend
// loads nothing else: the fast path of a ptrace hit.
type Needs struct {
	Values bool
	Stack  int // frames; 0 for none
}
