package rpc2_test

import (
	"strconv"
	"testing"

	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/rpc2"
)

// regValue returns the value of register name in regs, failing if absent.
func regValue(t *testing.T, regs api.Registers, name string) uint64 {
	t.Helper()
	for _, r := range regs {
		if r.Name == name {
			v, err := strconv.ParseUint(r.Value, 0, 64)
			if err != nil {
				t.Fatalf("register %s = %q: %v", name, r.Value, err)
			}
			return v
		}
	}
	t.Fatalf("no register %s in %+v", name, regs)
	return 0
}

// TestClientFrameRegistersSkipAndNextInstruction covers the client calls
// the terminal needs: registers of an outer frame, a stack trace starting
// at a frame, the generic CallAPI, and next-instruction stepping over a
// CALL while step-instruction enters it.
func TestClientFrameRegistersSkipAndNextInstruction(t *testing.T) {
	s := start(t, "basic", false)
	c := s.client(t)
	if _, err := c.CreateBreakpoint(&api.Breakpoint{FunctionName: "main.add"}, ""); err != nil {
		t.Fatal(err)
	}
	st, err := c.Continue()
	wantStop(t, "continue", st, err, "main.add", 13)

	frames, err := c.StacktraceFrom(-1, 1, 1, 0, nil)
	if err != nil || len(frames) != 1 || frames[0].Function.Name() != "main.main" || frames[0].Line != 32 {
		t.Fatalf("StacktraceFrom skip 1: %+v %v", frames, err)
	}
	top, err := c.ListScopeRegisters(api.EvalScope{GoroutineID: -1}, false)
	if err != nil {
		t.Fatal(err)
	}
	if regValue(t, top, "Rip") != st.CurrentThread.PC || len(top) != 26 {
		t.Fatalf("frame 0 registers %+v, want 26 with Rip %#x", top, st.CurrentThread.PC)
	}
	outer, err := c.ListScopeRegisters(api.EvalScope{GoroutineID: -1, Frame: 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	if regValue(t, outer, "Rip") != frames[0].PC {
		t.Fatalf("frame 1 Rip %#x, want the return address %#x", regValue(t, outer, "Rip"), frames[0].PC)
	}
	// The caller's stack pointer is the callee's CFA: above frame 0's.
	if sp := regValue(t, outer, "Rsp"); sp <= regValue(t, top, "Rsp") {
		t.Fatalf("frame 1 Rsp %#x is not above frame 0's %#x", sp, regValue(t, top, "Rsp"))
	}
	for _, r := range outer {
		if r.Name == "Rax" {
			t.Fatalf("frame 1 shows Rax, which a call does not preserve: %+v", outer)
		}
	}
	if _, err := c.ListScopeRegisters(api.EvalScope{GoroutineID: -1, Frame: 50}, false); err == nil {
		t.Fatal("registers of frame 50 of a short stack")
	}
	var pid rpc2.ProcessPidOut
	if err := c.CallAPI("ProcessPid", rpc2.ProcessPidIn{}, &pid); err != nil || pid.Pid == 0 {
		t.Fatalf("CallAPI ProcessPid: %+v %v", pid, err)
	}

	// Back in main.main, step instruction by instruction to the call of
	// Scale (line 33): next-instruction executes it whole, landing on the
	// instruction after the call, still in main.main.
	st, err = c.StepOut()
	wantStop(t, "stepout", st, err, "main.main", 32)
	for i := 0; st.CurrentThread.Line == 32 && i < 50; i++ {
		if st, err = c.StepInstruction(true); err != nil {
			t.Fatal(err)
		}
	}
	if st.CurrentThread.Function.Name() != "main.main" || st.CurrentThread.Line != 33 {
		t.Fatalf("next-instruction left line 32 for %+v", st.CurrentThread)
	}
	var sawScale bool
	for i := 0; i < 50 && st.CurrentThread.Line == 33 && st.CurrentThread.Function.Name() == "main.main"; i++ {
		before := st.CurrentThread.PC
		if st, err = c.StepInstruction(true); err != nil {
			t.Fatal(err)
		}
		if st.CurrentThread.Function.Name() != "main.main" {
			t.Fatalf("next-instruction at %#x entered %s", before, st.CurrentThread.Function.Name())
		}
		sawScale = sawScale || st.CurrentThread.Line == 34
	}
	if !sawScale || st.StopReason != "next finished" {
		t.Fatalf("next-instruction did not reach line 34 over the Scale call: %+v reason %q", st.CurrentThread, st.StopReason)
	}
	// step-instruction enters a call: from line 34, stepping into describe.
	for i := 0; i < 50 && st.CurrentThread.Function.Name() == "main.main"; i++ {
		if st, err = c.StepInstruction(false); err != nil {
			t.Fatal(err)
		}
	}
	if st.CurrentThread.Function.Name() != "main.describe" {
		t.Fatalf("step-instruction never entered describe: %+v", st.CurrentThread)
	}
}
