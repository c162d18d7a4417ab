package ebpf

import (
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc/event"
	"github.com/tinydbg/tinydbg/service/api"
)

// text renders a captured value as the trace command prints it, through
// the one printer of service/api.
func text(v event.Value) string {
	if v.Var == nil {
		return fmt.Sprintf("%s=(unavailable: %s)", v.Name, v.Unavailable)
	}
	return v.Name + "=" + api.FormatVar(v.Var)
}
