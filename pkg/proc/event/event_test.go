package event_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// TestKindText: the JSON output spells the kinds so. How values are
// printed is pkg/trace's (render_test.go), through service/api.
func TestKindText(t *testing.T) {
	if event.Call.String() != "call" || event.Return.String() != "return" {
		t.Errorf("kinds %q %q", event.Call, event.Return)
	}
}
