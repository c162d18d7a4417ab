package debugger_test

import (
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// TestKernelLogMasksText: while a kernel logpoint's uprobe has its int3 in
// the text, the debugger's reads show the executable's byte, and a
// breakpoint set at that address meanwhile saves that byte, not the
// uprobe's: cleared after the logpoint is gone, it leaves the text as the
// executable has it.
func TestKernelLogMasksText(t *testing.T) {
	testenv.RequireRoot(t)
	d := launch(t, "basic", fixture.Flavour{})
	src := fixture.Source("basic")
	bp, err := d.CreateBreakpoint(api.Breakpoint{File: src, Line: 15}, "")
	if err != nil {
		t.Fatal(err)
	}
	addr := bp.Addr
	if _, err := d.ClearBreakpoint(bp.ID, ""); err != nil {
		t.Fatal(err)
	}
	// Disassemble reads the executable's code, never memory.
	insts, err := d.Disassemble(addr, addr+16, api.GoFlavour)
	if err != nil || len(insts) == 0 || insts[0].Loc.PC != addr {
		t.Fatalf("disassemble at %#x: %+v %v", addr, insts, err)
	}
	want := insts[0].Bytes[0]
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
