package dap

import (
	"slices"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/corefile"
	"github.com/tinydbg/tinydbg/internal/fixture"
)

// TestCoreMode launches mode "core" on a GOTRACEBACK=crash core: the
// panicking goroutine's stack and locals are there, a continue is refused,
// and a launch without coreFilePath fails with Delve's message.
func TestCoreMode(t *testing.T) {
	bin := fixture.Build(t, "corecrash", fixture.Flavour{})
	core, _ := corefile.Crash(t, bin)
	ts := startServer(t)
	c := dial(t, ts)
	c.initialize()
	seq := c.send("launch", map[string]any{"request": "launch", "mode": "core", "program": bin})
	if er := c.expectError(seq); er.Body.Error.Format != "Failed to launch: The 'coreFilePath' attribute is missing in debug configuration." {
		t.Errorf("launch without coreFilePath: %q", er.Body.Error.Format)
	}
	seq = c.send("launch", map[string]any{"request": "launch", "mode": "core", "program": bin, "coreFilePath": core, "stopOnEntry": true})
	expect[*dap.InitializedEvent](c)
	expectResponse[*dap.LaunchResponse](c, seq)
	seq = c.send("configurationDone", nil)
	if stop := expect[*dap.StoppedEvent](c).Body; stop.Reason != "entry" {
		t.Fatalf("stopped: %+v", stop)
	}
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	frames := c.stack(1, 0, 30).Body.StackFrames
	i := slices.IndexFunc(frames, func(f dap.StackFrame) bool { return f.Name == "main.explode" })
	if i < 0 || frames[i].Line != 25 || frames[i+1].Name != "main.explode" || frames[i+1].Line != 27 || frames[i+3].Name != "main.main" || frames[i+3].Line != 42 {
		t.Fatalf("stack of goroutine 1: %+v", frames)
	}
	locals := c.variables(c.scopes(frames[i].Id)["Locals"])
	if msg := findVar(t, locals, "msg"); msg.Value != `"core:0"` {
		t.Errorf("msg = %+v", msg)
	}
	args := c.variables(c.scopes(frames[i+2].Id)["Locals"])
	if p := findVar(t, args, "p"); p.Value != "main.point {X: 1, Y: 2}" {
		t.Errorf("p = %+v", p)
	}
	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	// As in Delve: the refusal is a stop on an exception, with the error.
	if stop := expect[*dap.StoppedEvent](c).Body; stop.Reason != "exception" || stop.Text != "can not continue execution of core process" || stop.ThreadId != 1 {
		t.Errorf("after continue: %+v", stop)
	}
}
