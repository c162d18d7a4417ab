package api_test

import (
	"encoding/json"
	"testing"

	"github.com/tinydbg/tinydbg/internal/rendertest"
	"github.com/tinydbg/tinydbg/service/api"
)

// TestRenderTable: the terminal's one-line form, DAP's short-type form and
// what a JSON-RPC client decodes all print the table's text.
func TestRenderTable(t *testing.T) {
	for _, c := range rendertest.Cases() {
		w := api.ConvertVar(c.Var)
		if got := api.FormatVar(c.Var); got != c.Want {
			t.Errorf("%s: FormatVar = %q, want %q", c.Name, got, c.Want)
		}
		if got := w.SinglelineStringWithShortTypes(); got != c.Want {
			t.Errorf("%s: short types = %q, want %q", c.Name, got, c.Want)
		}
		b, err := json.Marshal(&w)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var back api.Variable
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if got := back.SinglelineString(); got != c.Want {
			t.Errorf("%s: over JSON-RPC = %q, want %q", c.Name, got, c.Want)
		}
	}
}

// TestConvertFakeAddress: a value in the overlay keeps its address on the
// wire, flagged, as Delve sends it; a real one is not flagged.
func TestConvertFakeAddress(t *testing.T) {
	for _, c := range rendertest.Cases() {
		w := api.ConvertVar(c.Var)
		fake := w.Flags&api.VariableFakeAddress != 0
		if w.Addr != c.Var.Addr || fake != (c.Name == "register error") {
			t.Errorf("%s: Addr %#x flags %b, want %#x fake=%v", c.Name, w.Addr, w.Flags, c.Var.Addr, c.Name == "register error")
		}
	}
}
