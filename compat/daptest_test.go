package compat

import (
	"path/filepath"
	"testing"

	"github.com/go-delve/delve/service/dap/daptest"
	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// nextMessage is the next message other than output and continued
// events, which the two servers send at moments of their own.
func nextMessage(t *testing.T, c *daptest.Client) dap.Message {
	t.Helper()
	for {
		m := c.ExpectMessage(t)
		switch m.(type) {
		case *dap.OutputEvent, *dap.ContinuedEvent:
			continue
		}
		return m
	}
}

// dapDebuggers are the DAP servers a session runs on: tinydbg, and dlv
// where it is installed (its absence fails under TINYDBG_STRICT).
func dapDebuggers(t *testing.T) []struct{ name, path string } {
	t.Helper()
	debuggers := []struct{ name, path string }{{"tinydbg", tinydbgBin}}
	if dlvErr != nil {
		testenv.SkipOrFail(t, "no dlv %s to compare with: %v", dlvVersion, dlvErr)
	} else {
		debuggers = append(debuggers, struct{ name, path string }{"dlv", dlvBin})
	}
	return debuggers
}

// dapClient starts `path dap` on a loopback port and connects Delve's
// DAP test client to it; both end with the test.
func dapClient(t *testing.T, path string) *daptest.Client {
	t.Helper()
	s := startServer(t, path, "dap", "--listen=127.0.0.1:0")
	c := daptest.NewClient("127.0.0.1:" + s.port)
	t.Cleanup(c.Close)
	return c
}

// TestDelveDAPTestClient runs one session with Delve's own DAP test client
// (service/dap/daptest) on tinydbg dap and dlv dap: a breakpoint, the
// unrecovered-panic exception with exceptionInfo, readMemory and
// disassemble at the stop, and disconnect.
func TestDelveDAPTestClient(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "panicexit", fixture.Flavour{})
	src := filepath.Join(fixture.Dir(), "panicexit", "main.go")
	debuggers := dapDebuggers(t)
	for _, d := range debuggers {
		t.Run(d.name, func(t *testing.T) {
			c := dapClient(t, d.path)
			c.InitializeRequest()
			caps := c.CheckInitializeResponse(t, nextMessage(t, c)).Body
			if !caps.SupportsReadMemoryRequest || !caps.SupportsDisassembleRequest || !caps.SupportsExceptionInfoRequest ||
				!caps.SupportsSteppingGranularity || len(caps.ExceptionBreakpointFilters) != 2 {
				t.Fatalf("capabilities %+v", caps)
			}
			c.LaunchRequestWithArgs(map[string]any{"request": "launch", "mode": "exec", "program": bin, "outputMode": "remote"})
			if pe := c.CheckProcessEvent(t, nextMessage(t, c)).Body; pe.Name != bin || pe.SystemProcessId <= 0 || !pe.IsLocalProcess || pe.StartMethod != "launch" {
				t.Fatalf("process event %+v", pe)
			}
			c.CheckInitializedEvent(t, nextMessage(t, c))
			c.CheckLaunchResponse(t, nextMessage(t, c))
			c.SetBreakpointsRequest(src, []int{19})
			if bps := c.CheckSetBreakpointsResponse(t, nextMessage(t, c)).Body.Breakpoints; len(bps) != 1 || !bps[0].Verified || bps[0].Line != 19 {
				t.Fatalf("breakpoints %+v", bps)
			}
			c.SetExceptionBreakpointsRequest([]string{"unrecovered-panic"})
			if bps := c.CheckSetExceptionBreakpointsResponse(t, nextMessage(t, c)).Body.Breakpoints; len(bps) != 1 || bps[0].Id != -1 {
				t.Fatalf("exception breakpoints %+v", bps)
			}
			c.ConfigurationDoneRequest()
			// Not daptest's check, which wants dlv's "Type 'dlv help'" line.
			if m, ok := nextMessage(t, c).(*dap.ConfigurationDoneResponse); !ok || !m.Success {
				t.Fatalf("configurationDone: %#v", m)
			}
			stop := c.CheckStoppedEvent(t, nextMessage(t, c)).Body
			if stop.Reason != "breakpoint" {
				t.Fatalf("stopped %+v", stop)
			}
			c.CheckStopLocation(t, stop.ThreadId, "main.load", 19)

			c.StackTraceRequest(stop.ThreadId, 0, 1)
			pc := c.CheckStackTraceResponse(t, nextMessage(t, c)).Body.StackFrames[0].InstructionPointerReference
			c.DisassembleRequest(pc, 0, 2)
			insts := c.CheckDisassembleResponse(t, nextMessage(t, c)).Body.Instructions
			if len(insts) != 2 || insts[0].Address != pc || insts[0].Line != 19 || insts[0].InstructionBytes == "" || insts[0].InstructionBytes[:2] == "cc" {
				t.Fatalf("disassemble at %s: %+v", pc, insts)
			}

			c.ContinueRequest(stop.ThreadId)
			c.CheckContinueResponse(t, nextMessage(t, c))
			stop = c.CheckStoppedEvent(t, nextMessage(t, c)).Body
			const text = `"level 3 too deep: bad config"`
			if stop.Reason != "exception" || stop.Description != "panic" || stop.Text != text {
				t.Fatalf("stopped %+v", stop)
			}
			c.ExceptionInfoRequest(stop.ThreadId)
			if info := c.CheckExceptionInfoResponse(t, nextMessage(t, c)).Body; info.ExceptionId != "panic" || info.Description != text {
				t.Fatalf("exceptionInfo %+v", info)
			}
			c.DisconnectRequest()
			c.CheckDisconnectResponse(t, nextMessage(t, c))
			c.CheckTerminatedEvent(t, nextMessage(t, c))
		})
	}
}
