package compat

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-delve/delve/service/dap/daptest"
	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// scopeNames lists the names of scopes, joined by "|".
func scopeNames(scopes []dap.Scope) string {
	var out []string
	for _, s := range scopes {
		out = append(out, s.Name)
	}
	return strings.Join(out, "|")
}

// mustParseHex reads a 0x-prefixed hex number.
func mustParseHex(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// varValue is the value of the variable called name, "" when absent.
func varValue(vars []dap.Variable, name string) string {
	for _, v := range vars {
		if v.Name == name {
			return v.Value
		}
	}
	return ""
}

// TestDAPViewAttributes checks the attributes that change what the client
// is shown, the same script on tinydbg dap and dlv dap with Delve's DAP
// test client: showGlobalVariables and showRegisters (Delve's scopes),
// substitutePath (breakpoint and frame paths as the client has them),
// stackTraceDepth, hideSystemGoroutines and showPprofLabels.
func TestDAPViewAttributes(t *testing.T) {
	testenv.RequirePtrace(t)
	basic := fixture.Build(t, "basic", fixture.Flavour{})
	labelled := fixture.Build(t, "svcgoroutines", fixture.Flavour{})
	src := fixture.Source("basic")
	clientSrc := "/client/src/" + filepath.Base(src)
	for _, d := range dapDebuggers(t) {
		t.Run(d.name+"/scopes-paths-depth", func(t *testing.T) {
			c := dapClient(t, d.path)
			thread, _ := launchTo(t, c, basic, clientSrc, 15, map[string]any{
				"showGlobalVariables": true, "showRegisters": true, "stackTraceDepth": 1, "hideSystemGoroutines": true,
				"substitutePath": []map[string]string{{"from": "/client/src", "to": filepath.Dir(src)}}})
			c.StackTraceRequest(thread, 0, 0)
			frames := c.CheckStackTraceResponse(t, nextMessage(t, c)).Body.StackFrames
			if len(frames) != 1 || frames[0].Name != "main.add" || frames[0].Source == nil || frames[0].Source.Path != clientSrc {
				t.Fatalf("stackTraceDepth 1 and substitutePath: frames %+v", frames)
			}
			c.ScopesRequest(frames[0].Id)
			scopes := c.CheckScopesResponse(t, nextMessage(t, c)).Body.Scopes
			if got := scopeNames(scopes); got != "Locals|Globals (package main)|Registers" {
				t.Fatalf("scopes %q", got)
			}
			c.VariablesRequest(scopes[0].VariablesReference)
			locals := c.CheckVariablesResponse(t, nextMessage(t, c)).Body.Variables
			var got []string
			for _, v := range locals {
				got = append(got, v.Name+"="+v.Value)
			}
			if strings.Join(got, " ") != "a=3 b=4 ~r0=0 sum=7" {
				t.Errorf("Locals %q", got)
			}
			c.VariablesRequest(scopes[1].VariablesReference)
			if v := varValue(c.CheckVariablesResponse(t, nextMessage(t, c)).Body.Variables, "counter"); v != "7" {
				t.Errorf("Globals: counter %q, want 7", v)
			}
			c.VariablesRequest(scopes[2].VariablesReference)
			regs := c.CheckVariablesResponse(t, nextMessage(t, c)).Body.Variables
			// Delve's register names are aligned: "   rip".
			if v := varValue(regs, "   rip"); v != frames[0].InstructionPointerReference && v != fmt.Sprintf("%#016x", mustParseHex(t, frames[0].InstructionPointerReference)) {
				t.Errorf("Registers: rip %q, frame pc %s, in %+v", v, frames[0].InstructionPointerReference, regs)
			}
			c.ThreadsRequest()
			threads := c.CheckThreadsResponse(t, nextMessage(t, c)).Body.Threads
			if len(threads) != 1 || !strings.HasPrefix(threads[0].Name, "* [Go 1] main.add") {
				t.Errorf("hideSystemGoroutines: threads %+v", threads)
			}
			c.DisconnectRequestWithKillOption(true)
		})
		t.Run(d.name+"/showPprofLabels", func(t *testing.T) {
			c := dapClient(t, d.path)
			c.InitializeRequest()
			c.CheckInitializeResponse(t, nextMessage(t, c))
			c.LaunchRequestWithArgs(map[string]any{"request": "launch", "mode": "exec", "program": labelled, "showPprofLabels": []string{"role"}})
			for m := nextMessage(t, c); ; m = nextMessage(t, c) {
				if _, ok := m.(*dap.LaunchResponse); ok {
					break
				}
			}
			c.SetFunctionBreakpointsRequest([]dap.FunctionBreakpoint{{Name: "main.ready"}})
			c.CheckSetFunctionBreakpointsResponse(t, nextMessage(t, c))
			c.ConfigurationDoneRequest()
			if m, ok := nextMessage(t, c).(*dap.ConfigurationDoneResponse); !ok || !m.Success {
				t.Fatalf("configurationDone: %#v", m)
			}
			c.CheckStoppedEvent(t, nextMessage(t, c))
			checkThreadNamed(t, c, " worker] main.receive")
			c.DisconnectRequestWithKillOption(true)
		})
	}
}

// checkThreadNamed fails unless one thread's name is "[Go N" then suffix.
func checkThreadNamed(t *testing.T, c *daptest.Client, suffix string) {
	t.Helper()
	c.ThreadsRequest()
	var names []string
	for _, th := range c.CheckThreadsResponse(t, nextMessage(t, c)).Body.Threads {
		if strings.HasPrefix(th.Name, "[Go ") && strings.HasSuffix(th.Name, suffix) {
			return
		}
		names = append(names, th.Name)
	}
	t.Errorf("no thread named [Go N%s in %q", suffix, names)
}
