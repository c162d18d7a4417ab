package dap

import (
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

func TestParseLogMessage(t *testing.T) {
	for _, tc := range []struct{ in, format, exprs, err string }{
		{"add {a}+{ b } = {a+b}", "add %s+%s = %s", "a|b|a+b", ""},
		{"100% {m[k{1}]}", "100%% %s", "m[k{1}]", ""},
		{"plain", "plain", "", ""},
		{"x {", "", "", "invalid log point format: unmatched '{'"},
		{"x }", "", "", "invalid log point format: unmatched '}'"},
		{"x { }", "", "", "invalid log point format: empty evaluation string"},
	} {
		m, err := parseLogMessage(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || m.format != tc.format || strings.Join(m.exprs, "|") != tc.exprs {
			t.Errorf("%q: %+v, %v", tc.in, m, err)
		}
	}
}

// TestLogpoints sets a logpoint in main.add: it prints its message with
// the values of that call and the program runs on to its end, never
// reported stopped; a malformed message is refused in its place.
func TestLogpoints(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	ts := startServer(t)
	c := dial(t, ts)
	if !c.initialize().Body.SupportsLogPoints {
		t.Fatal("logpoints not announced")
	}
	seq := c.send("launch", map[string]any{"mode": "exec", "program": bin})
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.LaunchResponse](c, seq)
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src}, "breakpoints": []map[string]any{
		{"line": 10, "logMessage": "bad {"}, {"line": 14, "logMessage": "add {a}+{b} = {a+b}, 100%"}}})
	bps := expectResponse[*dap.SetBreakpointsResponse](c, seq).Body.Breakpoints
	if len(bps) != 2 || bps[0].Verified || bps[0].Message != "invalid log point format: unmatched '{'" || !bps[1].Verified || bps[1].Line != 14 {
		t.Fatalf("breakpoints %+v", bps)
	}
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	var logged []string
	for {
		m, ok := <-c.msgs
		if !ok {
			t.Fatalf("connection closed: %v", <-c.errs)
		}
		if o, ok := m.(*dap.OutputEvent); ok && strings.HasPrefix(o.Body.Output, "> ") {
			logged = append(logged, o.Body.Output)
			if o.Body.Source == nil || o.Body.Source.Path != src || o.Body.Line != 14 {
				t.Errorf("logpoint output's place: %+v", o.Body)
			}
		}
		if _, ok := m.(*dap.StoppedEvent); ok {
			t.Fatalf("stopped at a logpoint: %+v", m)
		}
		if ex, ok := m.(*dap.ExitedEvent); ok {
			if ex.Body.ExitCode != 0 {
				t.Fatalf("exit code %d", ex.Body.ExitCode)
			}
			break
		}
	}
	if strings.Join(logged, "") != "> [Go 1]: add 3+4 = 7, 100%\n" {
		t.Fatalf("logged %q", logged)
	}
}
