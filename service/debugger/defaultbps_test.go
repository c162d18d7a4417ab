package debugger_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// bpSummary returns the breakpoints by value, ordered by id.
func bpSummary(t *testing.T, d *debugger.Debugger) []api.Breakpoint {
	t.Helper()
	bps, err := d.Breakpoints()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]api.Breakpoint, len(bps))
	for i, b := range bps {
		out[i] = *b
	}
	return out
}

// TestDefaultBreakpoints checks Delve's two default breakpoints on
// panicexit: listed first with their ids and names, the stop on the
// unrecovered panic with its value, and that a toggle survives a restart
// while a cleared one comes back, as in Delve.
func TestDefaultBreakpoints(t *testing.T) {
	for _, fl := range []fixture.Flavour{{}, {PIE: true}} {
		d := launch(t, "panicexit", fl)
		bps := bpSummary(t, d)
		if len(bps) != 2 || bps[0].ID != -2 || bps[0].Name != "runtime-fatal-throw" || len(bps[0].Addrs) != 3 ||
			bps[0].FunctionName != "(multiple functions)" || bps[0].File != "<multiple locations>" ||
			bps[1].ID != -1 || bps[1].Name != "unrecovered-panic" || bps[1].FunctionName != "runtime.fatalpanic" ||
			len(bps[1].Variables) != 1 || bps[1].Variables[0] != "runtime.curg._panic.arg" {
			t.Fatalf("default breakpoints: %+v", bps)
		}
		st := run(t, d, api.Continue)
		at(t, st, "runtime.fatalpanic", 1456)
		th := st.CurrentThread
		if th.Breakpoint == nil || th.Breakpoint.ID != -1 || th.BreakpointInfo == nil || len(th.BreakpointInfo.Variables) != 1 {
			t.Fatalf("stop: %+v", th)
		}
		if v := th.BreakpointInfo.Variables[0]; v.Name != "runtime.curg._panic.arg" || v.Type != "interface {}" || len(v.Children) != 1 || v.Children[0].Value != "level 3 too deep: bad config" {
			t.Fatalf("panic value: %+v", v)
		}
		frames, err := d.Stacktrace(-1, 3, 0, nil)
		if err != nil || len(frames) < 3 || frames[2].Function.Name() != "main.load" || frames[2].Line != 19 {
			t.Fatalf("stack: %+v %v", frames, err)
		}

		if _, err := d.ToggleBreakpoint(0, "unrecovered-panic"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ClearBreakpoint(-2, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Restart(false, nil); err != nil {
			t.Fatal(err)
		}
		bps = bpSummary(t, d)
		if len(bps) != 2 || bps[0].ID != -2 || bps[0].Disabled || bps[1].ID != -1 || !bps[1].Disabled {
			t.Fatalf("after restart: %+v", bps)
		}
		st = run(t, d, api.Continue)
		if !st.Exited || st.ExitStatus != 2 {
			t.Fatalf("with unrecovered-panic disabled: %+v", st)
		}
	}
}
