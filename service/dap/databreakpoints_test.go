package dap

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// launchWatch launches the watch fixture stopped at the first
// `local += 10` of main.loop (line 20), with that breakpoint cleared.
func launchWatch(t *testing.T) (*testClient, dap.StackFrame, int) {
	t.Helper()
	bin := fixture.Build(t, "watch", fixture.Flavour{})
	src := fixture.Source("watch")
	c := dial(t, startServer(t))
	c.launch(map[string]any{"mode": "exec", "program": bin})
	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src}, "breakpoints": []map[string]any{{"line": 20}}})
	if bps := expectResponse[*dap.SetBreakpointsResponse](c, seq).Body.Breakpoints; len(bps) != 1 || !bps[0].Verified {
		t.Fatalf("breakpoint at line 20: %+v", bps)
	}
	seq = c.send("configurationDone", nil)
	expectResponse[*dap.ConfigurationDoneResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	top := c.checkTop(stop.ThreadId, "main.loop", 20)
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src}, "breakpoints": []map[string]any{}})
	expectResponse[*dap.SetBreakpointsResponse](c, seq)
	return c, top, stop.ThreadId
}

// addressOf evaluates &expr and returns the address it shows.
func (c *testClient) addressOf(expr string, frame int) uint64 {
	c.t.Helper()
	res := c.evaluate("&"+expr, frame, "repl").Result
	m := regexp.MustCompile(`\(0x([0-9a-f]+)\)`).FindStringSubmatch(res)
	if m == nil {
		c.t.Fatalf("&%s = %q: no address", expr, res)
	}
	addr, err := strconv.ParseUint(m[1], 16, 64)
	if err != nil {
		c.t.Fatal(err)
	}
	return addr
}

// continueToData continues and requires a data breakpoint stop in
// main.loop at line, with Delve's event: no hitBreakpointIds.
func (c *testClient) continueToData(line int) dap.StackFrame {
	c.t.Helper()
	seq := c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	if stop.Reason != "data breakpoint" || stop.HitBreakpointIds != nil || !stop.AllThreadsStopped {
		c.t.Fatalf("stop %+v, want a data breakpoint", stop)
	}
	return c.checkTop(stop.ThreadId, "main.loop", line)
}

// TestDataBreakpoints asks for data breakpoint info by scope variable and
// by name, sets watchpoints through setDataBreakpoints, and requires each
// write of the watched variable to stop right after it, with the values
// the program has then; a new list replaces the old one.
func TestDataBreakpoints(t *testing.T) {
	testenv.RequirePtrace(t)
	c, top, goid := launchWatch(t)
	if caps := c.initialize().Body; !caps.SupportsDataBreakpoints {
		t.Fatalf("capabilities %+v", caps)
	}
	locals := c.scopes(top.Id)["Locals"]
	if got := findVar(t, c.variables(locals), "local").Value; got != "0" {
		t.Fatalf("local = %s", got)
	}

	seq := c.send("dataBreakpointInfo", map[string]any{"variablesReference": locals, "name": "local"})
	info := expectResponse[*dap.DataBreakpointInfoResponse](c, seq).Body
	localID := fmt.Sprintf("-1,0,*(*[8]byte)(%#x)", c.addressOf("local", top.Id))
	if info.DataId != localID || info.Description != "Locals.local" || fmt.Sprint(info.AccessTypes) != "[read write readWrite]" || info.CanPersist {
		t.Fatalf("info of Locals.local: %+v, want dataId %s", info, localID)
	}
	seq = c.send("dataBreakpointInfo", map[string]any{"name": "counter", "frameId": top.Id})
	info = expectResponse[*dap.DataBreakpointInfoResponse](c, seq).Body
	counterID := fmt.Sprintf("%d,0,counter", goid)
	if info.DataId != counterID || info.Description != "counter" {
		t.Fatalf("info of counter: %+v, want dataId %s", info, counterID)
	}
	for _, bad := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"variablesReference": 9999, "name": "x"}, "Could not get data breakpoint info: variable reference 9999 unknown"},
		{map[string]any{"variablesReference": locals, "name": "nosuch"}, "Could not get data breakpoint info: field nosuch not found"},
	} {
		seq = c.send("dataBreakpointInfo", bad.args)
		if er := c.expectError(seq); er.Body.Error.Id != errDataBreakpointInfo || er.Body.Error.Format != bad.want {
			t.Fatalf("dataBreakpointInfo %v: %+v, want %q", bad.args, er.Body.Error, bad.want)
		}
	}

	seq = c.send("setDataBreakpoints", map[string]any{"breakpoints": []map[string]any{
		{"dataId": counterID, "accessType": "write"},
		{"dataId": "nonsense", "accessType": "write"},
		{"dataId": counterID, "accessType": "write"},
		{"dataId": "-1,0,sink", "accessType": "sideways"},
	}})
	bps := expectResponse[*dap.SetDataBreakpointsResponse](c, seq).Body.Breakpoints
	if len(bps) != 4 || !bps[0].Verified || bps[0].Id <= 0 ||
		bps[1].Verified || bps[1].Message != `malformed data ID: "nonsense"` ||
		bps[2].Verified || bps[2].Message != "breakpoint already exists" ||
		bps[3].Verified || bps[3].Message != `unknown access type: "sideways"` {
		t.Fatalf("setDataBreakpoints: %+v", bps)
	}
	// counter++ is line 21: the stop is after the write, on line 22.
	for i, want := range []struct{ counter, local string }{{"1", "10"}, {"2", "20"}} {
		f := c.continueToData(22)
		if got := c.evaluate("counter", f.Id, "repl").Result; got != want.counter {
			t.Fatalf("hit %d: counter = %s, want %s", i, got, want.counter)
		}
		if got := findVar(t, c.variables(c.scopes(f.Id)["Locals"]), "local").Value; got != want.local {
			t.Fatalf("hit %d: local = %s, want %s", i, got, want.local)
		}
	}
	// The list replaces the previous one: only local is watched now.
	seq = c.send("setDataBreakpoints", map[string]any{"breakpoints": []map[string]any{{"dataId": localID, "accessType": "write"}}})
	if bps := expectResponse[*dap.SetDataBreakpointsResponse](c, seq).Body.Breakpoints; len(bps) != 1 || !bps[0].Verified {
		t.Fatalf("setDataBreakpoints local: %+v", bps)
	}
	f := c.continueToData(21)
	if got := c.evaluate("local", f.Id, "repl").Result; got != "30" {
		t.Fatalf("local = %s, want 30", got)
	}
	if got := c.evaluate("counter", f.Id, "repl").Result; got != "2" {
		t.Fatalf("counter = %s, want 2", got)
	}
	// A read of a package variable: sink = readme stops after the load,
	// before the store.
	seq = c.send("setDataBreakpoints", map[string]any{"breakpoints": []map[string]any{{"dataId": "-1,0,readme", "accessType": "read"}}})
	if bps := expectResponse[*dap.SetDataBreakpointsResponse](c, seq).Body.Breakpoints; len(bps) != 1 || !bps[0].Verified {
		t.Fatalf("setDataBreakpoints readme: %+v", bps)
	}
	f = c.continueToData(24)
	if got := c.evaluate("sink", f.Id, "repl").Result; got != "0" {
		t.Fatalf("sink = %s before the store", got)
	}
	seq = c.send("setDataBreakpoints", map[string]any{"breakpoints": []map[string]any{}})
	if bps := expectResponse[*dap.SetDataBreakpointsResponse](c, seq).Body.Breakpoints; len(bps) != 0 {
		t.Fatalf("cleared: %+v", bps)
	}
	// Nothing is watched: the program runs to its end.
	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	expect[*dap.ExitedEvent](c)
	expect[*dap.TerminatedEvent](c)
}

// TestWriteMemory writes a variable's bytes, reads them back with
// readMemory, evaluates the variable and lets the program print what it
// computes from the written value; code and bad requests are refused.
func TestWriteMemory(t *testing.T) {
	testenv.RequirePtrace(t)
	c, top, _ := launchWatch(t)
	if caps := c.initialize().Body; !caps.SupportsWriteMemoryRequest {
		t.Fatalf("capabilities %+v", caps)
	}
	addr := c.addressOf("counter", top.Id)
	data := binary.LittleEndian.AppendUint64(nil, 42)
	ref := fmt.Sprintf("%#x", addr-8)
	seq := c.send("writeMemory", map[string]any{"memoryReference": ref, "offset": 8, "data": base64.StdEncoding.EncodeToString(data)})
	if n := expectResponse[*dap.WriteMemoryResponse](c, seq).Body.BytesWritten; n != 8 {
		t.Fatalf("bytesWritten %d", n)
	}
	seq = c.send("readMemory", map[string]any{"memoryReference": fmt.Sprintf("%#x", addr), "count": 8})
	mem := expectResponse[*dap.ReadMemoryResponse](c, seq).Body
	if got, _ := base64.StdEncoding.DecodeString(mem.Data); string(got) != string(data) {
		t.Fatalf("read back % x, want % x", got, data)
	}
	if got := c.evaluate("counter", top.Id, "repl").Result; got != "42" {
		t.Fatalf("counter = %s after the write", got)
	}
	pc := top.InstructionPointerReference
	for _, bad := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"memoryReference": ref, "data": ""}, "Unable to write memory: empty data"},
		{map[string]any{"memoryReference": "main.counter", "data": "AA=="}, "Unable to write memory: unknown memoryReference"},
		{map[string]any{"memoryReference": ref, "data": "!!"}, "Unable to write memory: illegal base64 data at input byte 0"},
		{map[string]any{"memoryReference": pc, "data": "kA=="}, fmt.Sprintf("Unable to write memory: %s is inside the executable's code, which can not be written", pc)},
	} {
		seq = c.send("writeMemory", bad.args)
		if er := c.expectError(seq); er.Body.Error.Id != errWriteMemory || er.Body.Error.Format != bad.want {
			t.Fatalf("writeMemory %v: %+v, want %q", bad.args, er.Body.Error, bad.want)
		}
	}
	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	expect[*dap.ExitedEvent](c)
	expect[*dap.TerminatedEvent](c)
	// loop adds 3 to the written 42; the rest of the program prints on.
	if out := c.output(); out != "30 45 7\n3\n42\n5\n" {
		t.Fatalf("output %q", out)
	}
}
