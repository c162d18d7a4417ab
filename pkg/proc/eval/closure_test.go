package eval_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// TestCapturedAtEntry stops at the first instruction a breakpoint on a
// closure (and on a method value's -fm wrapper) uses, where the captured
// variables' stack slots are not written yet: their values come from the
// closure context, as the program sees them (capture(5, 7) captures n=5
// and &m with m=7; c.Add's receiver is c). Delve 1.27.2 prints "m = 7",
// "n = 5017504" (it reads n's unwritten slot: n is declared on another
// line than the closure; at greet's closure it shows name and times from
// their unwritten slots too) and ".this = (*main.counter)(0x289773eb2e80)", the receiver.
func TestCapturedAtEntry(t *testing.T) {
	flavours := append(fixture.Flavours, fixture.Flavour{Toolchain: "go1.24.13"}, fixture.Flavour{PIE: true})
	for _, fl := range flavours {
		t.Run(fl.Name(), func(t *testing.T) {
			s := start(t, "truth", fl)
			for _, fn := range []string{"main.greet.func1", "main.capture.func1", "main.(*counter).Add-fm"} {
				if _, err := s.tg.SetBreakpointFunc(fn); err != nil {
					t.Fatal(err)
				}
			}
			s.cont()
			sc := s.scope("main.greet.func1")
			if fl.Optimized {
				// The captured variables are declared on the line after
				// the stop: not visible yet, as in Delve.
				match(t, "greet closure locals", vars(t, sc, false), `\(no locals\)`+"\n")
			} else {
				match(t, "greet closure locals", vars(t, sc, false), `name = "ab"`+"\ntimes = 2\n")
			}

			s.cont()
			sc = s.scope("main.capture.func1")
			if fl.Optimized {
				// The optimized closure has no frame setup: the breakpoint
				// is after the context's fields were loaded, and n has no
				// location (Delve says the same).
				exprErr(t, sc, "n", "could not find symbol value for n")
				expr(t, sc, "m", "7")
			} else {
				expr(t, sc, "n", "5")
				expr(t, sc, "m", "7")
				expr(t, sc, "n*100 + m", "507")
				// m, declared on the closure's line, first: Delve's order.
				match(t, "closure locals", vars(t, sc, false), "m = 7\nn = 5\n")
			}

			s.cont()
			sc = s.scope("main.(*counter).Add-fm")
			locals, err := sc.Locals(value.DefaultLoadConfig)
			if err != nil {
				t.Fatal(err)
			}
			if fl.Optimized {
				// The optimized wrapper describes no .this.
				if len(locals) != 0 {
					t.Errorf("optimized Add-fm locals: %q", formatVars(locals, "locals", true))
				}
				return
			}
			if len(locals) != 1 || locals[0].Var.Name != ".this" {
				t.Fatalf("Add-fm locals: %q", formatVars(locals, "locals", true))
			}
			this := locals[0].Var
			match(t, ".this", api.FormatVarMultiline(this), `\(\*main\.counter\)\(0x[0-9a-f]+\)\n\*main\.counter \{n: 40\}`)
		})
	}
}

// TestCapturedBeforeCopy is gofumpt's format.File.func2 (go1.22 -N -l)
// in small: a closure capturing a struct pointer f by value (and last by
// reference), stopped at its breakpoint, the frame setup's SUBQ. The
// closure copies f from its context (DX+8) into its slot only after
// that; walk's call of dirty left its pattern there, which both Delve
// and tinydbg showed as f (gofumpt: a fumpter whose fset.base was
// 824634239856, a heap address). Go 1.22's DWARF does not mark f as
// captured (no DW_AT_go_closure_offset); the copy in the setup code does.
// tinydbg reads f from the context until the copy runs, and after one
// next the slot holds the very pointer it showed.
func TestCapturedBeforeCopy(t *testing.T) {
	for _, tc := range fixture.Toolchains {
		t.Run("go"+tc, func(t *testing.T) {
			s := start(t, "closurectx", fixture.Flavour{Toolchain: tc})
			if _, err := s.tg.SetBreakpointFunc("main.format.func1"); err != nil {
				t.Fatal(err)
			}
			s.cont()
			slot := s.varSlot("main.format.func1", "f")
			if got := s.words(slot, 1)[0]; got>>8 != 0x7a7a7a7a7a7a7a {
				t.Fatalf("f's slot at entry holds %#x, want dirty's pattern 0x7a7a7a7a7a7a7aNN", got)
			}
			sc := s.scope("main.format.func1")
			expr(t, sc, "f.fset.base", "1634")
			expr(t, sc, "f.name", `"top"`)
			expr(t, sc, "f.level", "1")
			expr(t, sc, "len(f.fset.files)", "1")
			v, err := sc.Eval("f", value.DefaultLoadConfig)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Children) != 1 {
				t.Fatalf("f: %s", api.FormatVarMultiline(v))
			}
			shown := v.Children[0].Addr // the fumpter's address: f's value
			if _, err := s.tg.Next(); err != nil {
				t.Fatal(err)
			}
			if got := s.words(slot, 1)[0]; got != shown {
				t.Errorf("after next f's slot holds %#x, want the fumpter tinydbg showed at %#x", got, shown)
			}
			expr(t, s.scope("main.format.func1"), "f.fset.base", "1634")
		})
	}
}
