package dap

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestServerFlags checks the server-wide settings Delve's flags give a DAP
// server: --check-go-version vets the launched program's Go version (a
// refusal fails the launch and leaves no process), --disable-aslr starts
// it without address randomization.
func TestServerFlags(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "sleeper", fixture.Flavour{})
	t.Run("check-go-version", func(t *testing.T) {
		var vetted string
		ts := startServerWith(t, Config{CheckGoVersion: func(v string) error {
			vetted = v
			return errors.New("Go version too new")
		}})
		c := dial(t, ts)
		c.initialize()
		seq := c.send("launch", map[string]any{"mode": "exec", "program": bin})
		if er := c.expectError(seq); er.Body.Error.Format != "Failed to launch: Go version too new" {
			t.Fatalf("launch: %+v", er.Body.Error)
		}
		if vetted != runtime.Version() {
			t.Fatalf("vetted %q, the fixture was built by %s", vetted, runtime.Version())
		}
	})
	t.Run("disable-aslr", func(t *testing.T) {
		ts := startServerWith(t, Config{DisableASLR: true})
		c := dial(t, ts)
		c.initialize()
		seq := c.send("launch", map[string]any{"mode": "exec", "program": bin})
		var pid int
		for pid == 0 {
			switch m := c.nextAny().(type) {
			case *dap.ProcessEvent:
				pid = m.Body.SystemProcessId
			case *dap.ErrorResponse:
				t.Fatalf("launch: %+v", m.Body.Error)
			}
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/personality", pid))
		if err != nil {
			t.Fatal(err)
		}
		const addrNoRandomize = 0x0040000
		if p, err := strconv.ParseUint(strings.TrimSpace(string(b)), 16, 32); err != nil || p&addrNoRandomize == 0 {
			t.Fatalf("personality %q", b)
		}
		expect[*dap.InitializedEvent](c)
		expectResponse[*dap.LaunchResponse](c, seq)
	})
}

// TestShowPprofLabels names goroutines with their pprof labels as Delve
// does for each form of showPprofLabels.
func TestShowPprofLabels(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "svcgoroutines", fixture.Flavour{})
	for _, tc := range []struct {
		keys []string
		want string
	}{
		{[]string{"role"}, " worker] main.receive"},
		{[]string{"*"}, " role:worker] main.receive"},
		{[]string{"nope", "role"}, " role:worker] main.receive"},
		{nil, "] main.receive"},
	} {
		ts := startServer(t)
		c := dial(t, ts)
		c.initialize()
		seq := c.send("launch", map[string]any{"mode": "exec", "program": bin, "showPprofLabels": tc.keys})
		expect[*dap.InitializedEvent](c)
		expectResponse[*dap.LaunchResponse](c, seq)
		seq = c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main.ready"}}})
		expectResponse[*dap.SetFunctionBreakpointsResponse](c, seq)
		seq = c.send("configurationDone", nil)
		expectResponse[*dap.ConfigurationDoneResponse](c, seq)
		expect[*dap.StoppedEvent](c)
		seq = c.send("threads", nil)
		var names []string
		found := false
		for _, th := range expectResponse[*dap.ThreadsResponse](c, seq).Body.Threads {
			names = append(names, th.Name)
			if strings.HasPrefix(th.Name, "[Go ") && strings.HasSuffix(th.Name, tc.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("showPprofLabels %q: no thread named [Go N%s in %q", tc.keys, tc.want, names)
		}
		seq = c.send("disconnect", nil)
		expectResponse[*dap.DisconnectResponse](c, seq)
	}
}
