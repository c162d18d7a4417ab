package proc

import (
	"errors"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// failRestores is a backend whose writes of anything but an int3 fail
// while on is set: restoring an original byte fails, placing one works.
type failRestores struct {
	Process
	on       bool
	failRead uint64 // an address whose reads fail
	except   uint64 // an address whose restores work
}

var errInjected = errors.New("injected write failure")

func (p *failRestores) ReadMemory(buf []byte, addr uint64) (int, error) {
	if p.failRead != 0 && addr == p.failRead {
		return 0, errors.New("injected read failure")
	}
	return p.Process.ReadMemory(buf, addr)
}

func (p *failRestores) WriteMemory(addr uint64, data []byte) (int, error) {
	if p.on && addr != p.except && (len(data) != 1 || data[0] != arch.BreakpointInstr[0]) {
		return 0, errInjected
	}
	return p.Process.WriteMemory(addr, data)
}

func byteAt(t *testing.T, p Process, addr uint64) byte {
	t.Helper()
	var b [1]byte
	if _, err := p.ReadMemory(b[:], addr); err != nil {
		t.Fatalf("read %#x: %v", addr, err)
	}
	return b[0]
}

// TestBackend is the backend internal tests launch with; backend_test.go,
// an external test file, sets it because this package cannot import one.
var TestBackend Backend

// launchFailing starts the basic fixture behind a failRestores backend and
// returns main.add's breakpoint addresses.
func launchFailing(t *testing.T) (*Target, *failRestores, []uint64) {
	t.Helper()
	testenv.RequirePtrace(t)
	tg, err := Launch(TestBackend, fixture.Build(t, "basic", fixture.Flavour{}), nil, LaunchConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tg.Kill() })
	fp := &failRestores{Process: tg.proc}
	tg.proc = fp
	pcs, err := tg.sym.FuncEntryStmts("main.add")
	if err != nil || len(pcs) == 0 {
		t.Fatalf("main.add: %v %v", pcs, err)
	}
	return tg, fp, pcs
}

// A breakpoint whose byte cannot be restored stays in the table, so the
// int3 left in the text is still handled and removed at detach.
func TestFailedRestoreStaysTracked(t *testing.T) {
	tg, fp, pcs := launchFailing(t)
	orig := byteAt(t, fp, pcs[0])
	bp, err := tg.SetBreakpointFunc("main.add")
	if err != nil {
		t.Fatal(err)
	}
	st, err := tg.Continue()
	if err != nil || st.Reason != StopBreakpoint || st.Line != 13 {
		t.Fatalf("continue: %v %v", st, err)
	}

	// A next whose stepping breakpoints cannot be removed reports it; it
	// steps over the user breakpoint, whose byte it may restore meanwhile.
	fp.on, fp.except = true, pcs[0]
	_, err = tg.Next()
	if !errors.Is(err, errInjected) {
		t.Fatalf("next with failing restores: got %v, want the write error", err)
	}
	if len(tg.steps) != 0 {
		t.Fatalf("%d stepping breakpoints still armed after the next", len(tg.steps))
	}
	stepsLeft := len(tg.bps.phys) - 1
	if stepsLeft < 1 {
		t.Fatalf("%d stepping breakpoints tracked, want those whose restore failed", stepsLeft)
	}
	fp.except = 0
	if err := tg.ClearBreakpoint(bp.ID); !errors.Is(err, errInjected) {
		t.Fatalf("clear with failing restore: got %v, want the write error", err)
	}
	if got := byteAt(t, fp, pcs[0]); got != arch.BreakpointInstr[0] {
		t.Fatalf("byte at %#x after failed restore: %#x, want int3", pcs[0], got)
	}
	if tg.bps.phys[pcs[0]] == nil {
		t.Fatalf("breakpoint at %#x left the table with its int3 still written", pcs[0])
	}
	if left := len(tg.bps.phys); left != stepsLeft+1 {
		t.Fatalf("%d breakpoints tracked, want %d", left, stepsLeft+1)
	}

	fp.on = false
	if err := tg.bps.removeAll(fp); err != nil {
		t.Fatal(err)
	}
	if len(tg.bps.phys) != 0 {
		t.Fatalf("%d breakpoints left after removeAll", len(tg.bps.phys))
	}
	if got := byteAt(t, fp, pcs[0]); got != orig {
		t.Fatalf("byte at %#x: %#x, want the original %#x", pcs[0], got, orig)
	}
}

// A breakpoint that fails to place on its second address takes the first
// back, and says so when that fails too.
func TestPlaceRollbackReportsRestoreFailure(t *testing.T) {
	tg, fp, pcs := launchFailing(t)
	fp.on = true
	fp.failRead = pcs[0] + 1 // placed second, as addresses go in ascending order
	_, err := tg.SetBreakpointAddrs([]uint64{pcs[0], pcs[0] + 1})
	if err == nil {
		t.Fatal("breakpoint on an unmapped address was set")
	}
	if !errors.Is(err, errInjected) {
		t.Fatalf("rollback error: got %v, want it to include the failed restore", err)
	}
	if tg.bps.phys[pcs[0]] == nil || byteAt(t, fp, pcs[0]) != arch.BreakpointInstr[0] {
		t.Fatalf("rolled-back breakpoint at %#x: tracked %v, want tracked with its int3", pcs[0], tg.bps.phys[pcs[0]])
	}
}
