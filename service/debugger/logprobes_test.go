package debugger_test

import (
	"debug/elf"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// fileByte is the executable's byte at link-time address addr (fixtures
// are not PIE).
func fileByte(t *testing.T, bin string, addr uint64) byte {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && addr >= p.Vaddr && addr < p.Vaddr+p.Filesz {
			var b [1]byte
			if _, err := p.ReadAt(b[:], int64(addr-p.Vaddr)); err != nil {
				t.Fatal(err)
			}
			return b[0]
		}
	}
	t.Fatalf("%#x is not in the text", addr)
	return 0
}

// TestKernelLogMasksText: while a kernel logpoint's uprobe has its int3 in
// the text, the debugger's reads show the executable's byte, and a
// breakpoint set at that address meanwhile saves that byte, not the
// uprobe's: cleared after the logpoint is gone, it leaves the text as the
// executable has it.
func TestKernelLogMasksText(t *testing.T) {
	testenv.RequireRoot(t)
	d := launch(t, "basic", fixture.Flavour{})
	bin := fixture.Build(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	bp, err := d.CreateBreakpoint(api.Breakpoint{File: src, Line: 15}, "")
	if err != nil {
		t.Fatal(err)
	}
	addr := bp.Addr
	if _, err := d.ClearBreakpoint(bp.ID, ""); err != nil {
		t.Fatal(err)
	}
	want := fileByte(t, bin, addr)
	if want == 0xcc {
		t.Fatalf("the executable has an int3 at %#x", addr)
	}
	kl, why, err := d.OpenKernelLogs([]debugger.LogSpec{{Addrs: []uint64{addr}, Exprs: []string{"sum"}}}, api.DefaultLoadConfig, 0)
	if err != nil || kl == nil || why[0] != nil {
		t.Fatalf("kernel log: %v %v", why, err)
	}
	defer kl.Close()
	pid := d.ProcessPid()
	if raw := testproc.Memory(t, pid, addr, 1)[0]; raw != 0xcc {
		t.Fatalf("no uprobe int3 in the text at %#x: %#x", addr, raw)
	}
	if got, err := d.ExamineMemory(addr, 1); err != nil || got[0] != want {
		t.Fatalf("memory at the logpoint: % x %v, want %#x", got, err, want)
	}
	bp, err = d.CreateBreakpoint(api.Breakpoint{File: src, Line: 15}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := kl.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ClearBreakpoint(bp.ID, ""); err != nil {
		t.Fatal(err)
	}
	if raw := testproc.Memory(t, pid, addr, 1)[0]; raw != want {
		t.Fatalf("text at %#x after the logpoint and the breakpoint: %#x, want %#x", addr, raw, want)
	}
	st := run(t, d, api.Continue)
	if !st.Exited || st.ExitStatus != 0 {
		t.Fatalf("end: %+v", st)
	}
}
