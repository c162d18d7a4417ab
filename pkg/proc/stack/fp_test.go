package stack_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
)

// fakeSyms names three functions laid out at 0x1000, 0x2000 and 0x3000.
type fakeSyms struct{}

var fakeFuncs = []stack.Func{
	{Name: "main.leaf", Entry: 0x1000, End: 0x1100},
	{Name: "main.caller", Entry: 0x2000, End: 0x2100},
	{Name: "runtime.goexit", Entry: 0x3000, End: 0x3010},
}

func (fakeSyms) FuncAt(pc uint64) (stack.Func, bool) {
	for _, f := range fakeFuncs {
		if pc >= f.Entry && pc < f.End {
			return f, true
		}
	}
	return stack.Func{}, false
}

func (fakeSyms) LineAt(pc uint64) (string, int, bool) {
	return "fake.go", int(pc & 0xff), true
}

func (fakeSyms) InlinedCallsAt(uint64) []stack.InlinedCall { return nil }

// wordMem is sparse memory holding 8-byte words; unset words read as 0.
type wordMem map[uint64]uint64

func (m wordMem) ReadMemory(buf []byte, addr uint64) (int, error) {
	if addr%8 != 0 || len(buf)%8 != 0 {
		return 0, fmt.Errorf("unaligned read at %#x", addr)
	}
	for i := 0; i < len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], m[addr+uint64(i)])
	}
	return len(buf), nil
}

// TestFramePointerFallback unwinds code no CFI covers through the RBP
// chain: each frame record is [saved RBP, return address].
func TestFramePointerFallback(t *testing.T) {
	u := stack.NewUnwinder(fakeSyms{}, func() uint64 { return 0 }, func() (stack.CFI, error) { return stack.CFI{}, nil })
	mem := wordMem{
		0x7f00: 0x7f40, 0x7f08: 0x2010, // leaf's record: caller's RBP, return into main.caller
		0x7f40: 0x7f80, 0x7f48: 0x3001, // caller's record: return into runtime.goexit
	}
	regs := arch.Registers{Rip: 0x1020, Rsp: 0x7ef0, Rbp: 0x7f00}
	frames, err := u.Unwind(mem, stack.FromRegisters(&regs), stack.Options{})
	if err != nil {
		t.Fatalf("Unwind: %v", err)
	}
	want := []struct {
		name          string
		pc, cfa, sp   uint64
		line          int
		top           bool
		lookupPC, rbp uint64
	}{
		{"main.leaf", 0x1020, 0x7f10, 0x7ef0, 0x20, true, 0x1020, 0x7f00},
		{"main.caller", 0x2010, 0x7f50, 0x7f10, 0x0f, false, 0x200f, 0x7f40},
		{"runtime.goexit", 0x3001, 0x7f90, 0x7f50, 0x00, false, 0x3000, 0x7f80},
	}
	if len(frames) != len(want) {
		t.Fatalf("%d frames, want %d: %v", len(frames), len(want), frames)
	}
	for i, w := range want {
		f := frames[i]
		if f.Func.Name != w.name || f.PC != w.pc || f.CFA != w.cfa || f.SP != w.sp || f.Line != w.line ||
			f.Top != w.top || f.LookupPC() != w.lookupPC || f.BP != w.rbp {
			t.Errorf("frame %d: %s pc %#x cfa %#x sp %#x line %d top %v lookup %#x bp %#x; want %+v",
				i, f.Func.Name, f.PC, f.CFA, f.SP, f.Line, f.Top, f.LookupPC(), f.BP, w)
		}
		if v, ok := f.Regs.Reg(regnum.Rsp); !ok || v != w.sp {
			t.Errorf("frame %d: Regs rsp %#x %v, want %#x", i, v, ok, w.sp)
		}
	}
	// Registers that the frame-pointer rule cannot recover are absent in
	// callers rather than copied from the innermost frame.
	if _, ok := frames[1].Regs.Reg(regnum.Rax); ok {
		t.Errorf("caller frame claims to know rax")
	}
}

// TestFramePointerCycle feeds a frame-pointer chain that points back at
// itself: the stack pointer stops growing and unwinding must end.
func TestFramePointerCycle(t *testing.T) {
	u := stack.NewUnwinder(fakeSyms{}, func() uint64 { return 0 }, func() (stack.CFI, error) { return stack.CFI{}, nil })
	mem := wordMem{
		0x7f00: 0x7f40, 0x7f08: 0x2010,
		0x7f40: 0x7f00, 0x7f48: 0x2010, // back down to the first record
	}
	regs := arch.Registers{Rip: 0x1020, Rsp: 0x7ef0, Rbp: 0x7f00}
	frames, err := u.Unwind(mem, stack.FromRegisters(&regs), stack.Options{})
	if !errors.Is(err, stack.ErrTruncated) || len(frames) != 3 {
		t.Fatalf("got %d frames, err %v; want 3 frames and ErrTruncated", len(frames), err)
	}
	// A return address into no function ends the stack as well.
	mem[0x7f48] = 0xdead
	frames, err = u.Unwind(mem, stack.FromRegisters(&regs), stack.Options{})
	if !errors.Is(err, stack.ErrTruncated) || len(frames) != 2 {
		t.Fatalf("got %d frames, err %v; want 2 frames and ErrTruncated", len(frames), err)
	}
}
