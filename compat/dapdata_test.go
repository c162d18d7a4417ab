package compat

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestDAPDataBreakpoints runs one session of Delve's DAP test client on
// tinydbg dap and dlv dap: dataBreakpointInfo of a package variable by
// name, a write data breakpoint on it, and the stop after each write
// (line, reason, value), in the watch fixture's loop.
func TestDAPDataBreakpoints(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "watch", fixture.Flavour{})
	src := filepath.Join(fixture.Dir(), "watch", "main.go")
	debuggers := dapDebuggers(t)
	for _, d := range debuggers {
		t.Run(d.name, func(t *testing.T) {
			c := dapClient(t, d.path)
			c.InitializeRequest()
			if caps := c.CheckInitializeResponse(t, nextMessage(t, c)).Body; !caps.SupportsDataBreakpoints || !caps.SupportsWriteMemoryRequest {
				t.Fatalf("capabilities %+v", caps)
			}
			c.LaunchRequestWithArgs(map[string]any{"request": "launch", "mode": "exec", "program": bin, "outputMode": "remote"})
			c.CheckProcessEvent(t, nextMessage(t, c))
			c.CheckInitializedEvent(t, nextMessage(t, c))
			c.CheckLaunchResponse(t, nextMessage(t, c))
			c.SetBreakpointsRequest(src, []int{20})
			if bps := c.CheckSetBreakpointsResponse(t, nextMessage(t, c)).Body.Breakpoints; len(bps) != 1 || !bps[0].Verified {
				t.Fatalf("breakpoints %+v", bps)
			}
			c.ConfigurationDoneRequest()
			if m, ok := nextMessage(t, c).(*dap.ConfigurationDoneResponse); !ok || !m.Success {
				t.Fatalf("configurationDone: %#v", m)
			}
			stop := c.CheckStoppedEvent(t, nextMessage(t, c)).Body
			c.CheckStopLocation(t, stop.ThreadId, "main.loop", 20)
			c.SetBreakpointsRequest(src, nil)
			c.CheckSetBreakpointsResponse(t, nextMessage(t, c))

			c.DataBreakpointInfoRequest(0, "counter")
			info := c.CheckDataBreakpointInfoResponse(t, nextMessage(t, c)).Body
			if info.DataId != "-1,0,counter" || info.Description != "counter" || fmt.Sprint(info.AccessTypes) != "[read write readWrite]" {
				t.Fatalf("dataBreakpointInfo counter: %+v", info)
			}
			c.SetDataBreakpointsRequest([]string{fmt.Sprint(info.DataId), "nonsense"})
			bps := c.CheckSetDataBreakpointsResponse(t, nextMessage(t, c)).Body.Breakpoints
			if len(bps) != 2 || !bps[0].Verified || bps[1].Verified || bps[1].Message != `malformed data ID: "nonsense"` {
				t.Fatalf("setDataBreakpoints: %+v", bps)
			}
			for _, want := range []string{"1", "2"} {
				c.ContinueRequest(stop.ThreadId)
				c.CheckContinueResponse(t, nextMessage(t, c))
				stop = c.CheckStoppedEvent(t, nextMessage(t, c)).Body
				if stop.Reason != "data breakpoint" || len(stop.HitBreakpointIds) != 0 {
					t.Fatalf("stopped %+v", stop)
				}
				c.CheckStopLocation(t, stop.ThreadId, "main.loop", 22)
				c.StackTraceRequest(stop.ThreadId, 0, 1)
				frame := c.CheckStackTraceResponse(t, nextMessage(t, c)).Body.StackFrames[0].Id
				c.EvaluateRequest("counter", frame, "repl")
				if got := c.CheckEvaluateResponse(t, nextMessage(t, c)).Body.Result; got != want {
					t.Fatalf("counter = %s, want %s", got, want)
				}
			}
			c.DisconnectRequest()
			c.CheckDisconnectResponse(t, nextMessage(t, c))
			c.CheckTerminatedEvent(t, nextMessage(t, c))
		})
	}
}

// TestDAPWriteMemory writes into a byte slice through the memoryReference
// its variable carries, on tinydbg dap and dlv dap with Delve's daptest
// client, and reads the bytes back with readMemory and evaluate.
func TestDAPWriteMemory(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "values", fixture.Flavour{})
	src := filepath.Join(fixture.Dir(), "values", "main.go")
	debuggers := dapDebuggers(t)
	for _, d := range debuggers {
		t.Run(d.name, func(t *testing.T) {
			c := dapClient(t, d.path)
			c.InitializeRequest()
			c.CheckInitializeResponse(t, nextMessage(t, c))
			c.LaunchRequestWithArgs(map[string]any{"request": "launch", "mode": "exec", "program": bin, "outputMode": "remote", "showGlobalVariables": true})
			c.CheckProcessEvent(t, nextMessage(t, c))
			c.CheckInitializedEvent(t, nextMessage(t, c))
			c.CheckLaunchResponse(t, nextMessage(t, c))
			c.SetBreakpointsRequest(src, []int{143})
			c.CheckSetBreakpointsResponse(t, nextMessage(t, c))
			c.ConfigurationDoneRequest()
			if m, ok := nextMessage(t, c).(*dap.ConfigurationDoneResponse); !ok || !m.Success {
				t.Fatalf("configurationDone: %#v", m)
			}
			stop := c.CheckStoppedEvent(t, nextMessage(t, c)).Body
			c.StackTraceRequest(stop.ThreadId, 0, 1)
			frame := c.CheckStackTraceResponse(t, nextMessage(t, c)).Body.StackFrames[0].Id
			c.ScopesRequest(frame)
			globals := 0
			for _, sc := range c.CheckScopesResponse(t, nextMessage(t, c)).Body.Scopes {
				if sc.Name == "Globals (package main)" {
					globals = sc.VariablesReference
				}
			}
			c.VariablesRequest(globals)
			ref := ""
			for _, v := range c.CheckVariablesResponse(t, nextMessage(t, c)).Body.Variables {
				if v.Name == "vBytes" {
					ref = v.MemoryReference
				}
			}
			if ref == "" {
				t.Fatalf("no memoryReference for vBytes in the globals scope %d", globals)
			}
			c.WriteMemoryRequest(ref, 1, base64.StdEncoding.EncodeToString([]byte("o")))
			if n := c.CheckWriteMemoryResponse(t, nextMessage(t, c)).Body.BytesWritten; n != 1 {
				t.Fatalf("bytesWritten %d", n)
			}
			// The client supports it: the values shown are stale now.
			if ev, ok := nextMessage(t, c).(*dap.InvalidatedEvent); !ok || fmt.Sprint(ev.Body.Areas) != "[variables]" {
				t.Fatalf("after writeMemory: %#v, want an invalidated event for the variables", ev)
			}
			c.ReadMemoryRequest(ref, 0, 2)
			if mem := c.CheckReadMemoryResponse(t, nextMessage(t, c)).Body; mem.Data != base64.StdEncoding.EncodeToString([]byte("ho")) || mem.Address != ref {
				t.Fatalf("readMemory after the write: %+v", mem)
			}
			c.EvaluateRequest("vBytes[1]", frame, "repl")
			if got := c.CheckEvaluateResponse(t, nextMessage(t, c)).Body.Result; got != "111 = 0x6f" {
				t.Fatalf("vBytes[1] = %s, want 111 = 0x6f", got)
			}
			c.WriteMemoryRequest(ref, 0, "")
			if er := c.CheckErrorResponse(t, nextMessage(t, c)).Body.Error; er.Format != "Unable to write memory: empty data" {
				t.Fatalf("empty write: %+v", er)
			}
			c.DisconnectRequest()
			c.CheckDisconnectResponse(t, nextMessage(t, c))
			c.CheckTerminatedEvent(t, nextMessage(t, c))
		})
	}
}

// TestDAPGoroutineFilters lists threads under goroutineFilters (the
// REPL's goroutines -with/-without syntax) on tinydbg dap and dlv dap, at
// the first main.ready of the svcgoroutines fixture, where main and one
// labelled worker parked in main.receive are the user goroutines.
func TestDAPGoroutineFilters(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "svcgoroutines", fixture.Flavour{})
	debuggers := dapDebuggers(t)
	for _, d := range debuggers {
		for _, tc := range []struct{ filters, want string }{
			{"-with label role=worker", `^\[Go \d+\] main\.receive$`},
			{"-without label role=worker -with user", `^\* \[Go 1\] main\.ready( \(Thread \d+\))?$`},
		} {
			t.Run(d.name+" "+tc.filters, func(t *testing.T) {
				c := dapClient(t, d.path)
				c.InitializeRequest()
				c.CheckInitializeResponse(t, nextMessage(t, c))
				c.LaunchRequestWithArgs(map[string]any{"request": "launch", "mode": "exec", "program": bin, "outputMode": "remote", "goroutineFilters": tc.filters})
				c.CheckProcessEvent(t, nextMessage(t, c))
				c.CheckInitializedEvent(t, nextMessage(t, c))
				c.CheckLaunchResponse(t, nextMessage(t, c))
				c.SetFunctionBreakpointsRequest([]dap.FunctionBreakpoint{{Name: "main.ready"}})
				c.CheckSetFunctionBreakpointsResponse(t, nextMessage(t, c))
				c.ConfigurationDoneRequest()
				if m, ok := nextMessage(t, c).(*dap.ConfigurationDoneResponse); !ok || !m.Success {
					t.Fatalf("configurationDone: %#v", m)
				}
				c.CheckStoppedEvent(t, nextMessage(t, c))
				c.ThreadsRequest()
				var names []string
				for _, th := range c.CheckThreadsResponse(t, nextMessage(t, c)).Body.Threads {
					names = append(names, th.Name)
				}
				if len(names) != 1 || !regexp.MustCompile(tc.want).MatchString(names[0]) {
					t.Fatalf("goroutineFilters %q: threads %q, want one matching %s", tc.filters, names, tc.want)
				}
				c.DisconnectRequest()
				c.CheckDisconnectResponse(t, nextMessage(t, c))
				c.CheckTerminatedEvent(t, nextMessage(t, c))
			})
		}
	}
}
