package dap

import (
	"regexp"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestGoroutineFilters lists threads at the first main.ready of the
// svcgoroutines fixture, where main and one labelled worker (parked in
// main.receive) are the user goroutines, under goroutineFilters in the
// syntax of the REPL's goroutines -with/-without.
func TestGoroutineFilters(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "svcgoroutines", fixture.Flavour{})
	for _, tc := range []struct {
		filters    string
		hideSystem bool
		want       string // the thread names, joined by "|"
	}{
		{"-with label role=worker", false, `^\[Go \d+\] main\.receive$`},
		{"-w userloc main.go:23", false, `^\* \[Go 1\] main\.ready( \(Thread \d+\))?$`},
		{"-without label role=worker", true, `^\* \[Go 1\] main\.ready( \(Thread \d+\))?$`},
		{"-with user -t 3 -group userloc", false, `^\* \[Go 1\] main\.ready( \(Thread \d+\))?\|\[Go \d+\] main\.receive$`},
		{"-with running -with label role=worker", false, `^Dummy$`},
	} {
		c := dial(t, startServer(t))
		c.launch(map[string]any{"mode": "exec", "program": bin, "goroutineFilters": tc.filters, "hideSystemGoroutines": tc.hideSystem})
		seq := c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main.ready"}}})
		expectResponse[*dap.SetFunctionBreakpointsResponse](c, seq)
		seq = c.send("configurationDone", nil)
		expectResponse[*dap.ConfigurationDoneResponse](c, seq)
		expect[*dap.StoppedEvent](c)
		seq = c.send("threads", nil)
		names := ""
		for i, th := range expectResponse[*dap.ThreadsResponse](c, seq).Body.Threads {
			if i > 0 {
				names += "|"
			}
			names += th.Name
		}
		if !regexp.MustCompile(tc.want).MatchString(names) {
			t.Errorf("goroutineFilters %q (hideSystemGoroutines %v): threads %q, want %s", tc.filters, tc.hideSystem, names, tc.want)
		}
		seq = c.send("disconnect", nil)
		expectResponse[*dap.DisconnectResponse](c, seq)
	}
}
