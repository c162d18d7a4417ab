package core_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"testing"

	"github.com/tinydbg/tinydbg/internal/corefile"
	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/core"
)

// TestKernelCore opens the core the kernel wrote of a crashing fixture,
// plain and PIE: the pid, the crashing thread at runtime.raise, its SSE
// state, and memory both from the core (the ELF header page) and from the
// executable, whose text the kernel leaves out.
func TestKernelCore(t *testing.T) {
	for _, fl := range []fixture.Flavour{{}, {PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			bin := fixture.Build(t, "corecrash", fl)
			path, pid := corefile.Crash(t, bin)
			p, err := core.Open(path, bin)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Detach()
			if p.Pid() != pid {
				t.Errorf("Pid() = %d, want %d", p.Pid(), pid)
			}
			entry, err := p.AuxvEntry()
			if err != nil {
				t.Fatal(err)
			}
			xe, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer xe.Close()
			bias := entry - xe.Entry
			if (bias != 0) != fl.PIE {
				t.Errorf("load bias %#x for a binary with PIE=%v", bias, fl.PIE)
			}

			bi, err := bininfo.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer bi.Close()
			bi.SetLoadBias(bias)
			var cur *core.Thread
			ths := p.Threads()
			for i, th := range ths {
				if i > 0 && ths[i-1].ID() >= th.ID() {
					t.Errorf("threads not sorted: %d before %d", ths[i-1].ID(), th.ID())
				}
				if th.ID() == p.CurrentThread() {
					cur = th.(*core.Thread)
				}
			}
			if cur == nil {
				t.Fatalf("current thread %d is not among the %d threads", p.CurrentThread(), len(ths))
			}
			regs, _ := cur.Registers()
			if fn := bi.PCToFunc(regs.PC()); fn == nil || fn.Name != "runtime.raise" {
				t.Errorf("crashing thread at %#x (%v), want runtime.raise", regs.PC(), fn)
			}
			fp, err := cur.FPRegisters()
			if err != nil {
				t.Fatal(err)
			}
			// Go runs with the default MXCSR; bits 0-5 are sticky exception flags.
			if fp.Mxcsr&^0x3f != 0x1f80 {
				t.Errorf("MXCSR = %#x, want 0x1f80 with any exception flags", fp.Mxcsr)
			}

			text := xe.Section(".text")
			want := make([]byte, 256)
			if _, err := text.ReadAt(want, 0); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(want))
			if _, err := p.ReadMemory(got, text.Addr+bias); err != nil {
				t.Fatalf("reading .text: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf(".text at %#x differs from the executable's", text.Addr+bias)
			}
			hdr := make([]byte, 4)
			if _, err := p.ReadMemory(hdr, firstLoad(xe)+bias); err != nil || string(hdr) != "\x7fELF" {
				t.Errorf("ELF header page: %q, %v", hdr, err)
			}
		})
	}
}

func firstLoad(f *elf.File) uint64 {
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			return p.Vaddr
		}
	}
	return 0
}

// TestRefusals checks that nothing runs or changes a core, in Delve's words.
func TestRefusals(t *testing.T) {
	p := openWritten(t, snapshot())
	if _, err := p.Continue(); !errors.Is(err, core.ErrContinueCore) || err.Error() != "can not continue execution of core process" {
		t.Errorf("Continue: %v", err)
	}
	if _, err := p.WriteMemory(0x10000, []byte{1}); err == nil || err.Error() != "can not write to core process" {
		t.Errorf("WriteMemory: %v", err)
	}
	th := p.Threads()[0]
	if err := th.StepInstruction(); !errors.Is(err, core.ErrContinueCore) {
		t.Errorf("StepInstruction: %v", err)
	}
	if err := th.SetPC(1); err == nil || err.Error() != "can not change register values of core process" {
		t.Errorf("SetPC: %v", err)
	}
	ran := false
	if err := p.Exclusive(func() { ran = true }); err != nil || !ran {
		t.Errorf("Exclusive: ran %v, %v", ran, err)
	}
	if err := p.Exclusive(func() { panic("boom") }); err == nil {
		t.Error("Exclusive let a panic pass as success")
	}
}
