package trace

import (
	"fmt"
	"reflect"

	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// render gives every value of ev its text, through service/api's printer,
// the one every output uses, and drops the decoded values: the text is
// all a sink prints, and sinks that hold events (graph, Perfetto) need not
// keep them alive. A value a backend could not locate keeps the text the
// backend gave it.
func render(ev *Event) *Event {
	for i := range ev.Values {
		v := &ev.Values[i]
		switch {
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
	switch v.Kind {
	case reflect.Int, reflect.Uint, reflect.Bool, reflect.Float32, reflect.Float64:
		if v.Unreadable == nil && v.Value != "" && len(v.Children) == 0 {
			return v.Value
		}
	}
	return api.FormatVar(v)
}
