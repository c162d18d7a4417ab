package terminal

import (
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/rendertest"
	"github.com/tinydbg/tinydbg/service/api"
)

// TestRenderTable: the locals command prints the table's text, the same
// as every other output.
func TestRenderTable(t *testing.T) {
	term, out, _, fc := newFake()
	cases := rendertest.Cases()
	var want strings.Builder
	fc.locals = nil
	for i, c := range cases {
		w := api.ConvertVar(c.Var)
		w.Name = strings.ReplaceAll(c.Name, " ", "_")
		fc.locals = append(fc.locals, w)
		want.WriteString(w.Name + " = " + cases[i].Want + "\n")
	}
	if err := term.Call("locals"); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != want.String() {
		t.Errorf("locals printed\n%s\nwant\n%s", got, want.String())
	}
}
