package api

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/rendertest"
)

// TestLoadedPrintsAsWire: the printer reading the loader's tree in place
// (as a trace does) writes what it writes for the tree's wire form, in
// every layout, not only the one-line form the table checks.
func TestLoadedPrintsAsWire(t *testing.T) {
	for _, c := range rendertest.Cases() {
		w := ConvertVar(c.Var)
		for _, flags := range []PrettyFlags{0, PrettyNewlines, PrettyShortenType, PrettyRawString, PrettyNewlines | PrettyShortenType} {
			for _, verb := range []string{"", "%x"} {
				o := prettyOpts{top: true, withType: true, newlines: flags&PrettyNewlines != 0,
					short: flags&PrettyShortenType != 0, verb: verb, raw: flags&PrettyRawString != 0}
				var lb, wb outBuf
				writeTo(&lb, node{l: c.Var}, o, "\t")
				writeTo(&wb, node{w: &w}, o, "\t")
				if string(lb.b) != string(wb.b) {
					t.Errorf("%s, flags %b, verb %q: loaded %q, wire %q", c.Name, flags, verb, lb.b, wb.b)
				}
				if want := w.StringWithOptions("\t", verb, flags); string(wb.b) != want {
					t.Errorf("%s: writeTo %q, StringWithOptions %q", c.Name, wb.b, want)
				}
			}
		}
	}
}
