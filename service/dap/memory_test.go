package dap

import (
	"debug/elf"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// fileBytes reads n bytes of the executable at virtual address addr.
func fileBytes(t *testing.T, bin string, addr uint64, n int) []byte {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && addr >= p.Vaddr && addr+uint64(n) <= p.Vaddr+p.Filesz {
			buf := make([]byte, n)
			if _, err := p.ReadAt(buf, int64(addr-p.Vaddr)); err != nil {
				t.Fatal(err)
			}
			return buf
		}
	}
	t.Fatalf("%#x is not in %s", addr, bin)
	return nil
}

// TestMemoryAndInstructions reads memory and disassembles at a breakpoint
// (the program's bytes, not the int3 there), then steps one instruction.
func TestMemoryAndInstructions(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	c, top := launchStopped(t, nil, src)
	caps := c.initialize().Body // answered in any state
	if !caps.SupportsReadMemoryRequest || !caps.SupportsDisassembleRequest || !caps.SupportsSteppingGranularity {
		t.Fatalf("capabilities %+v", caps)
	}
	pc := mustHex(t, top.InstructionPointerReference)
	want := fileBytes(t, bin, pc-4, 16)
	if want[4] == 0xcc {
		t.Fatalf("the file has an int3 at %#x: the test cannot tell", pc)
	}

	seq := c.send("readMemory", map[string]any{"memoryReference": top.InstructionPointerReference, "offset": -4, "count": 16})
	mem := expectResponse[*dap.ReadMemoryResponse](c, seq).Body
	got, err := base64.StdEncoding.DecodeString(mem.Data)
	if err != nil || mem.Address != fmt.Sprintf("%#x", pc-4) || mem.UnreadableBytes != 0 || string(got) != string(want) {
		t.Fatalf("readMemory at %#x-4: %+v = % x, want % x", pc, mem, got, want)
	}
	seq = c.send("readMemory", map[string]any{"memoryReference": "0x8", "count": 4})
	if er := c.expectError(seq); er.Body.Error.Id != errReadMemory || !strings.HasPrefix(er.Body.Error.Format, "Unable to read memory: ") {
		t.Fatalf("readMemory of an unmapped page: %+v", er.Body.Error)
	}
	seq = c.send("readMemory", map[string]any{"memoryReference": "main.add", "count": 4})
	if er := c.expectError(seq); er.Body.Error.Format != `Unable to read memory: invalid memoryReference "main.add"` {
		t.Fatalf("readMemory of a name: %+v", er.Body.Error)
	}

	seq = c.send("disassemble", map[string]any{"memoryReference": top.InstructionPointerReference, "instructionOffset": -1, "instructionCount": 3})
	insts := expectResponse[*dap.DisassembleResponse](c, seq).Body.Instructions
	if len(insts) != 3 || insts[1].Address != top.InstructionPointerReference || insts[1].Line != 15 ||
		insts[1].Location == nil || insts[1].Location.Path != src {
		t.Fatalf("disassemble around %#x: %+v", pc, insts)
	}
	n := len(insts[1].InstructionBytes) / 2
	if insts[1].InstructionBytes != fmt.Sprintf("%x", fileBytes(t, bin, pc, n)) || insts[1].Instruction == "" {
		t.Fatalf("instruction at pc: %+v", insts[1])
	}
	next := fmt.Sprintf("%#x", pc+uint64(n))
	if insts[2].Address != next {
		t.Fatalf("the instruction after %#x is at %s, want %s", pc, insts[2].Address, next)
	}
	seq = c.send("disassemble", map[string]any{"memoryReference": top.InstructionPointerReference, "instructionOffset": -100000, "instructionCount": 1})
	if in := expectResponse[*dap.DisassembleResponse](c, seq).Body.Instructions; len(in) != 1 ||
		in[0] != (dap.DisassembledInstruction{Address: "0x0", Instruction: "invalid instruction"}) {
		t.Fatalf("before the function: %+v", in)
	}

	// One instruction: the pc moves to the next one, still on line 15.
	seq = c.send("next", map[string]any{"threadId": 1, "granularity": "instruction"})
	expectResponse[*dap.NextResponse](c, seq)
	if stop := expect[*dap.StoppedEvent](c).Body; stop.Reason != "step" {
		t.Fatalf("stopped after an instruction: %+v", stop)
	}
	if f := c.checkTop(1, "main.add", 15); f.InstructionPointerReference != next {
		t.Fatalf("pc after one instruction %s, want %s", f.InstructionPointerReference, next)
	}
}

// TestInstructionBreakpoints stops at an address given as an instruction
// reference plus an offset, the way VS Code's disassembly view sets them.
func TestInstructionBreakpoints(t *testing.T) {
	testenv.RequirePtrace(t)
	src := fixture.Source("basic")
	c, top := launchStopped(t, nil, src)
	if !c.initialize().Body.SupportsInstructionBreakpoints {
		t.Fatal("instruction breakpoints not announced")
	}
	// Three instructions on from the stop, still inside main.add.
	seq := c.send("disassemble", map[string]any{"memoryReference": top.InstructionPointerReference, "instructionCount": 4})
	insts := expectResponse[*dap.DisassembleResponse](c, seq).Body.Instructions
	target := mustHex(t, insts[3].Address)
	pc := mustHex(t, top.InstructionPointerReference)
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": src}, "breakpoints": []map[string]any{}})
	expectResponse[*dap.SetBreakpointsResponse](c, seq)
	seq = c.send("setInstructionBreakpoints", map[string]any{"breakpoints": []map[string]any{
		{"instructionReference": top.InstructionPointerReference, "offset": int(target - pc)},
		{"instructionReference": "main.add"}}})
	bps := expectResponse[*dap.SetInstructionBreakpointsResponse](c, seq).Body.Breakpoints
	if len(bps) != 2 || !bps[0].Verified || bps[0].InstructionReference != insts[3].Address ||
		bps[1].Verified || bps[1].Message != `invalid instructionReference "main.add"` {
		t.Fatalf("instruction breakpoints %+v", bps)
	}
	seq = c.send("continue", map[string]any{"threadId": 1})
	expectResponse[*dap.ContinueResponse](c, seq)
	stop := expect[*dap.StoppedEvent](c).Body
	if stop.Reason != "instruction breakpoint" || len(stop.HitBreakpointIds) != 1 || stop.HitBreakpointIds[0] != bps[0].Id {
		t.Fatalf("stopped %+v", stop)
	}
	seq = c.send("stackTrace", map[string]any{"threadId": stop.ThreadId, "levels": 1})
	if f := expectResponse[*dap.StackTraceResponse](c, seq).Body.StackFrames[0]; f.InstructionPointerReference != insts[3].Address || f.Name != "main.add" {
		t.Fatalf("stopped at %+v, want %s", f, insts[3].Address)
	}
}
