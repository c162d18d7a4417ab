package trace

import (
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// formatVar prints a loaded value as Delve's trace does, through the one
// printer every other output uses.
func formatVar(v *value.Variable) string { return api.FormatVar(v) }
