package eval_test

import (
	"regexp"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// match checks text against a regular expression anchored at both ends.
func match(t *testing.T, what, got, pattern string) {
	t.Helper()
	if !regexp.MustCompile(`^` + pattern + `$`).MatchString(got) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, pattern)
	}
}

// TestScopes stops at each "// stop:" of the scopes fixture and checks
// locals and args as Delve 1.27.2 prints them for the same binary.
func TestScopes(t *testing.T) {
	for _, fl := range allFlavours() {
		t.Run(fl.Name(), func(t *testing.T) {
			s := start(t, "scopes", fl)
			for _, fn := range []string{"main.divide", "main.parse", "main.regArgs"} {
				if _, err := s.tg.SetBreakpointFunc(fn); err != nil {
					t.Fatal(err)
				}
			}
			opt := fl.Optimized
			loclist := `\(unreadable could not find loclist entry at 0x[0-9a-f]+ for address 0x[0-9a-f]+\)`
			dropped := `\(unreadable empty OP stack\)`
			s.cont() // useGlobals

			s.cont()
			sc := s.scope("main.shadow")
			if opt {
				match(t, "shadow inner locals", vars(t, sc, false), `x = `+loclist+"\ny = 41\n")
				match(t, "shadow inner args", vars(t, sc, true), "a = 4\n~r0 = "+dropped+"\n")
			} else {
				match(t, "shadow inner locals", vars(t, sc, false), "\\(x\\) = 5\n\\(x\\) = 40\ny = 41\nx = \"inner\"\n")
				match(t, "shadow inner args", vars(t, sc, true), "a = 4\n~r0 = 0\n")
				expr(t, sc, "x", `"inner"`)
				expr(t, sc, "y - 1", "40")
			}
			exprErr(t, sc, "late", "could not find symbol value for late")

			s.cont()
			sc = s.scope("main.shadow")
			if opt {
				// The optimized stop is on the next line: late is declared.
				match(t, "shadow outer locals", vars(t, sc, false), "x = 5\nlate = 10\n")
			} else {
				match(t, "shadow outer locals", vars(t, sc, false), "x = 5\n")
				exprErr(t, sc, "late", "could not find symbol value for late")
			}
			exprErr(t, sc, "y", "could not find symbol value for y")
			expr(t, sc, "x * 3", "15")

			s.cont()
			sc = s.scope("main.makeAdder.func1")
			if opt {
				match(t, "closure locals", vars(t, sc, false), "total = 15\n")
				match(t, "closure args", vars(t, sc, true), "d = "+loclist+"\n~r0 = "+dropped+"\n")
			} else {
				match(t, "closure locals", vars(t, sc, false), "base = 10\ntotal = 15\n")
				match(t, "closure args", vars(t, sc, true), "d = 5\n~r0 = 0\n")
			}

			s.cont()
			sc = s.scope("main.sum[go.shape.int]")
			match(t, "generic int locals", vars(t, sc, false), "s = 6\n")
			if !opt {
				match(t, "generic int args", vars(t, sc, true), `xs = \[\]int len: 3, cap: 3, \[1,2,3\]`+"\n~r0 = 0\n")
				expr(t, sc, "xs[2] + s", "9")
			}
			s.cont()
			sc = s.scope("main.sum[go.shape.float64]")
			match(t, "generic float locals", vars(t, sc, false), "s = 0.75\n")

			s.cont()
			sc = s.scope("main.divide")
			if opt {
				match(t, "divide args", vars(t, sc, true), "a = 7\nb = 2\nq = "+dropped+"\nerr = "+dropped+"\n")
			} else {
				match(t, "divide args", vars(t, sc, true), "a = 7\nb = 2\nq = 0\nerr = error nil\n")
			}
			match(t, "divide locals", vars(t, sc, false), `\(no locals\)`+"\n")
			all, err := sc.Variables(value.ShortLoadConfig)
			if err != nil {
				t.Fatal(err)
			}
			var roles string
			for _, v := range all {
				switch {
				case v.Return:
					roles += v.Var.Name + ":ret "
				case v.Arg:
					roles += v.Var.Name + ":arg "
				}
			}
			match(t, "divide roles", roles, "a:arg b:arg q:ret err:ret ")

			s.cont() // divide(1, 0)
			s.cont()
			sc = s.scope("main.parse")
			expr(t, sc, "s", `"21"`)
			expr(t, sc, "len(s) + 1", "3")

			s.cont()
			sc = s.scope("main.regArgs")
			// At the entry of an optimized function the arguments are in
			// registers (ABIInternal): a string and a struct are split in pieces.
			expr(t, sc, "n", "1")
			expr(t, sc, "s", `"four"`)
			expr(t, sc, "p", "main.Point {X: 2, Y: 3}")
			expr(t, sc, "p.Y * n", "3")
			if opt {
				exprErr(t, sc, "&n", `can not take address of "n"`)
			}
		})
	}
}
