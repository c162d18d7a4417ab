// Package trace implements `tinydbg trace`: it reports every call of the
// functions matching a regular expression, and every return paired with
// its own call per goroutine, from one of two backends — int3 probes
// driven through ptrace (pkg/proc/nonstop: only the thread that hits a
// probe stops, and only while its event is built) or the eBPF uprobe
// engine (pkg/proc/ebpf: the program never stops) — and writes the events
// as Delve-style text, JSON Lines, per-goroutine call graphs or a Perfetto
// trace.
package trace

import "github.com/tinydbg/tinydbg/pkg/proc/event"

// The backends' event, under the names the sinks of this package use.
type (
	Event = event.Event
	Kind  = event.Kind
	Value = event.Value
	Frame = event.Frame
	Needs = event.Needs
)

// Event kinds.
const (
	Call   = event.Call
	Return = event.Return
)

// Sink consumes events in the order they happened.
type Sink interface {
	// Event handles one event; the sink may keep it.
	Event(ev *Event) error
	// Close flushes what the sink still holds (calls that never returned
	// included) once tracing has ended.
	Close() error
}

// streamer is a sink that keeps nothing of an event, nor its values'
// text, once Event returns (it writes them out): the eBPF backend then
// reuses their storage for later events.
type streamer interface {
	keepsNothing()
}

// keepsNothing reports whether s, or every sink of a Multi, is a streamer.
func keepsNothing(s Sink) bool {
	switch s := s.(type) {
	case Multi:
		for _, m := range s {
			if !keepsNothing(m) {
				return false
			}
		}
		return true
	case streamer:
		return true
	}
	return false
}
