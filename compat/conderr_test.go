package compat

import (
	"regexp"
	"testing"

	"github.com/tinydbg/tinydbg/internal/testenv"
)

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

// TestParityKernelConditionFault: a condition tinydbg evaluates in the
// kernel (condhot's p.V, with p nil at i = 0 and invalid at i = 1) stops
// where it cannot be evaluated, counts the hit and reports the error, as
// Delve does; only the wording of the invalid pointer's error differs.
// tinydbg's own terminal shows that the kernel evaluated it.
func TestParityKernelConditionFault(t *testing.T) {
	testenv.RequireRoot(t)
	t.Setenv("CONDHOT_N", "8")
	terminals(t, func(t *testing.T, repl bool) {
		got, delve := runBoth(t, paritySession{fixture: "condhot", repl: repl, script: []string{
			"break main.go:69",
			"cond 1 p.V == 2",
			"continue",
			"print i",
			"continue",
			"print i",
			"continue",
			"print i",
			"breakpoints",
			"quit",
		}})
		requireLines(t, got,
			"> [Breakpoint 1] main.hot() SRC/main.go:69 (hits goroutine(G):1 total:1) (PC: 0xADDR)",
			"Command failed: error evaluating expression: p is nil",
			"> [Breakpoint 1] main.hot() SRC/main.go:69 (hits goroutine(G):2 total:2) (PC: 0xADDR)",
			"> [Breakpoint 1] main.hot() SRC/main.go:69 (hits goroutine(G):3 total:3) (PC: 0xADDR)")
		// The evaluator names the address it could not read; Delve gives
		// the system's bare EIO text.
		explain(t, got, delve, "Command failed: error evaluating expression: reading 4 bytes at 0xADDR: reading 4 bytes at 0xADDR: bad address",
			regexp.MustCompile(`^Command failed: error evaluating expression: input/output error$`))
		if repl {
			// tinydbg's listing says where the condition ran, and how
			// often it faulted.
			explain(t, got, delve, "\tcond p.V == 2 (in kernel, 2 faults)", regexp.MustCompile(`^\tcond p\.V == 2$`))
		}
		sameTranscripts(t, got, delve)
	})
}
