package dap

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/rendertest"
	"github.com/tinydbg/tinydbg/service/api"
)

// TestRenderTable: the variables pane shows the table's text, the same
// as every other output.
func TestRenderTable(t *testing.T) {
	s := &session{}
	s.state.vars = map[int]*varRef{}
	for _, c := range rendertest.Cases() {
		w := api.ConvertVar(c.Var)
		if got, _ := s.convert(&w, "", frameRef{}, false); got != c.Want {
			t.Errorf("%s: DAP value = %q, want %q", c.Name, got, c.Want)
		}
	}
}
