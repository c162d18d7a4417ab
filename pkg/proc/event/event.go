// Package event is what a tracing backend reports: one call or return of
// a traced function. Both backends, the non-stop ptrace tracer
// (pkg/proc/nonstop) and the eBPF engine (pkg/proc/ebpf), produce it, and
// pkg/trace writes it; it depends on neither, so all three can import it.
package event

import (
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

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

// Value is one argument or result.
type Value struct {
	Name string
	Type string
	// Value is the text printed. A backend leaves it empty, or sets it to
	// "(unreadable ...)" when it could not even locate the value; the
	// session renders it from Var or Unavailable through service/api,
	// the one printer of every output.
	Value string
	// Var is the value as the shared loader decoded it; nil when
	// Unavailable or Value says why there is none.
	Var *value.Variable
	// Unavailable says why nothing was captured (e.g. a float register).
	Unavailable string
	// Truncated is set when a string, slice or pointee was longer than
	// the capture bound or could not be read at probe time.
	Truncated bool
	// Kept says Value is a string the backend gives again, never
	// changed, for every event whose value prints the same (a reused
	// text): a writer may keep what it derives from it, by its address.
	Kept bool
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
	// Values are the arguments of a call or the results of a return, in
	// declaration order.
	Values []Value
	// Time is when the probe fired: since the start of tracing from the
	// ptrace tracer, CLOCK_MONOTONIC from the eBPF engine (the session
	// rebases it to the start of tracing).
	Time time.Duration
	// Duration is, on a paired return, the time since its own call.
	Duration time.Duration
	// Unpaired marks a return whose call was not seen (tracing started
	// mid-call, the call's event was dropped, or a panic unwound the
	// frames in between).
	Unpaired bool
	// Depth counts the calls of the function still active below this one
	// on the goroutine (recursion); a call and its return share it. Set
	// by the eBPF engine.
	Depth int
	// StackOffset is the distance of SP below the goroutine's stack top
	// at the probe; a call and its return share it. Set by the eBPF engine.
	StackOffset uint64
	// Inlined marks a call of an inlined copy and the return when control
	// leaves it (see package probe for the rules); such a return carries
	// no results: Go's DWARF describes none for an inlined copy.
	Inlined bool
	// TailCall marks a return by a tail jump to another function, which
	// computes the results: they are reported unavailable.
	TailCall bool
	// Truncated is set when some values were captured only partly or not
	// at all (the eBPF event's data area filled up).
	Truncated bool
	// Stack holds the frames asked for with -s N, innermost first;
	// StackTruncated says the goroutine had more.
	Stack          []Frame
	StackTruncated bool
	// Err is set when the backend could not decode the event.
	Err error
}

// Needs says which parts of an event a sink prints, so that a backend
// loads nothing else: the fast path of a ptrace hit.
type Needs struct {
	Values bool
	Stack  int // frames; 0 for none
}
