package native

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc"
)

// TestDR7 checks the encoding against Intel SDM 3B §17.2.4: slot 0, 8-byte
// write (R/W 01, LEN 10); slot 2, 2-byte read-or-write (R/W 11, LEN 01);
// slot 3, 4-byte write (R/W 01, LEN 11).
func TestDR7(t *testing.T) {
	slots := [NumWatchSlots]watchSlot{
		{addr: 0x1000, size: 8, on: true},
		{},
		{addr: 0x2002, size: 2, rw: true, on: true},
		{addr: 0x3004, size: 4, on: true},
	}
	const want = 1<<0 | 1<<4 | 1<<6 | 0b1001<<16 | 0b0111<<24 | 0b1101<<28
	if got := dr7(&slots); got != want {
		t.Fatalf("dr7 = %#x, want %#x", got, want)
	}
}

// TestWatchTrap sets debug registers on a real process and checks that
// the trap says which slot fired (DR6), after the writing instruction.
func TestWatchTrap(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	exe := fixture.Build(t, "watch", fixture.Flavour{})
	_, w := pipe(t)
	p, err := Launch(LaunchConfig{Path: exe, Stdout: w})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	counter, late := symbol(t, exe, "main.counter"), symbol(t, exe, "main.late")
	if err := p.SetWatchpoint(0, counter+4, 8, false); err == nil || err.Error() != "watchpoint at "+hex(counter+4)+": not aligned to its size 8" {
		t.Fatalf("misaligned watchpoint: %v", err)
	}
	if err := p.SetWatchpoint(0, counter, 3, false); err == nil || err.Error() != "data breakpoint of size 3 not supported" {
		t.Fatalf("3-byte watchpoint: %v", err)
	}
	if err := p.SetWatchpoint(1, counter, 8, false); err != nil {
		t.Fatal(err)
	}
	ev := continueTo(t, p, proc.StopKindTrap)
	th := ev.Trapped[0]
	if hits := th.WatchHits(); hits != 0b10 {
		t.Fatalf("watch hits %#b, want slot 1", hits)
	}
	if hits := th.WatchHits(); hits != 0 {
		t.Fatalf("watch hits %#b taken twice", hits)
	}
	var b [8]byte
	if _, err := p.ReadMemory(b[:], counter); err != nil || b[0] != 1 {
		t.Fatalf("counter is %v (%v) at the trap, want 1: the write has happened", b, err)
	}
	// Moved to late and back, the slot is rewritten on every thread.
	if err := p.SetWatchpoint(1, late, 4, false); err != nil {
		t.Fatal(err)
	}
	if err := p.ClearWatchpoint(1); err != nil {
		t.Fatal(err)
	}
	if err := p.SetWatchpoint(1, counter, 8, false); err != nil {
		t.Fatal(err)
	}
	// Left armed, the watchpoint would kill the program with SIGTRAP at
	// its next counter++, once it runs untraced.
	if err := p.Detach(); err != nil {
		t.Fatal(err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(p.Pid(), &ws, 0, nil); err == syscall.ECHILD {
		// Reparented to another thread of the test (see
		// TestDetachPassesPendingSignal): only its end can be seen.
		for i := 0; i < 500; i++ {
			if _, err := os.Stat("/proc/" + itoa(p.Pid())); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("program still runs after Detach")
	} else if err != nil {
		t.Fatal(err)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Fatalf("program ended with status %#x after Detach, want exit 0", uint32(ws))
	}
}

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }
func itoa(v int) string   { return strconv.Itoa(v) }
