package compat

import "testing"

// TestParityConditionError: a breakpoint condition that cannot be
// evaluated (a name not in scope, then a type error) stops at every hit,
// counts it and reports the error, as in Delve; a hit condition added on
// top still decides, so hit 4 passes silently and hit 5 stops.
func TestParityConditionError(t *testing.T) {
	terminals(t, func(t *testing.T, repl bool) {
		got, delve := runBoth(t, paritySession{fixture: "condloop", args: []string{"10"}, repl: repl, script: []string{
			"break main.hot",
			"cond 1 nosuchvar == 3",
			"continue",
			"continue",
			`cond 1 i + "a" == 3`,
			"continue",
			"cond -hitcount 1 == 5",
			"continue",
			"print i",
			"quit",
		}})
		requireLines(t, got,
			"> [Breakpoint 1] main.hot() SRC/main.go:23 (hits goroutine(G):1 total:1) (PC: 0xADDR)",
			"> [Breakpoint 1] main.hot() SRC/main.go:23 (hits goroutine(G):2 total:2) (PC: 0xADDR)",
			"> [Breakpoint 1] main.hot() SRC/main.go:23 (hits goroutine(G):3 total:3) (PC: 0xADDR)",
			"> [Breakpoint 1] main.hot() SRC/main.go:23 (hits goroutine(G):5 total:5) (PC: 0xADDR)",
			"Command failed: error evaluating expression: could not find symbol value for nosuchvar",
			`Command failed: error evaluating expression: can not convert "a" constant to int`,
			"4")
		sameTranscripts(t, got, delve)
	})
}
