package trace

import (
	"fmt"

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
			v.Value = api.FormatVar(v.Var)
		case v.Value == "":
			v.Value = fmt.Sprintf("(unreadable %s)", v.Unavailable)
		}
		v.Var = nil
	}
	return ev
}
