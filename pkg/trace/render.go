package trace

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// render gives every value of ev its text, through service/api's printer,
// the one every output uses, and drops the decoded values: the text is
// all a sink prints, and sinks that hold events (graph, Perfetto) need not
// keep them alive. A value a backend could not locate keeps the text the
// backend gave it.
func render(ev *Event) *Event { return renderInto(ev, nil) }

// renderInto is render keeping the text of the values in *text (when not
// nil), one buffer for many events instead of a string per value. The
// strings point into it: a caller that reuses the buffer must know that
// nothing kept them.
func renderInto(ev *Event, text *[]byte) *Event {
	for i := range ev.Values {
		v := &ev.Values[i]
		switch {
		case v.Var != nil && text != nil:
			v.Type = v.Var.Type
			v.Value = appendVar(text, v.Var)
		case v.Var != nil:
			v.Type = v.Var.Type
			v.Value = formatVar(v.Var)
		case v.Value == "":
			v.Value = fmt.Sprintf("(unreadable %s)", v.Unavailable)
		}
		v.Var = nil
	}
	return ev
}

// formatVar is api.FormatVar, skipping the conversion for a readable
// number or bool, which the printer writes as the loader's text: a hot
// function's int arguments are most of what a trace renders.
// TestFormatVarScalars holds the two equal.
func formatVar(v *value.Variable) string {
	if isPlainScalar(v) {
		return v.Value
	}
	return api.FormatVar(v)
}

// isPlainScalar reports whether the printer writes v as its loader's text.
func isPlainScalar(v *value.Variable) bool {
	switch v.Kind {
	case reflect.Int, reflect.Uint, reflect.Bool, reflect.Float32, reflect.Float64:
		return v.Unreadable == nil && v.Value != "" && len(v.Children) == 0
	}
	return false
}

// appendVar is formatVar appending to *text, and returns what it appended
// as a string that shares *text's bytes. Bytes appended later may move
// *text, never the bytes of a string returned before.
func appendVar(text *[]byte, v *value.Variable) string {
	start := len(*text)
	if isPlainScalar(v) {
		// Copied: the loader's text lives only as long as its tree.
		*text = append(*text, v.Value...)
	} else {
		*text = api.AppendVar(*text, v)
	}
	b := (*text)[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}
