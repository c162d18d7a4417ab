package debugger_test

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/service/api"
)

// waitZombie waits until the killed pid is a zombie, so the test does not
// race the kernel's delivery of SIGKILL.
func waitZombie(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return
		}
	}
	t.Fatalf("pid %d did not die", pid)
}

// TestKilledWhileStopped kills the stopped program from outside: every
// command then reports its end in Delve's words, with -9 (minus the
// signal) as its status, instead of failing with "no such process".
func TestKilledWhileStopped(t *testing.T) {
	d := launch(t, "sleeper", fixture.Flavour{})
	if _, err := d.CreateBreakpoint(api.Breakpoint{FunctionName: "main.tick"}, ""); err != nil {
		t.Fatal(err)
	}
	at(t, run(t, d, api.Continue), "main.tick", 11)
	pid := d.ProcessPid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitZombie(t, pid)
	want := fmt.Sprintf("Process %d has exited with status -9", pid)
	if _, err := d.Eval(-1, 0, "ticks", api.LoadConfig{}); err == nil || err.Error() != want {
		t.Errorf("print after kill: %v, want %q", err, want)
	}
	if _, err := d.State(false); err == nil || err.Error() != want {
		t.Errorf("state after kill: %v, want %q", err, want)
	}
	if _, err := d.Command(api.DebuggerCommand{Name: api.Next}, nil); err == nil || err.Error() != want {
		t.Errorf("next after kill: %v, want %q", err, want)
	}
}

// TestKilledWhileRunning kills the program while it runs: the continue
// ends with exit status -9, and so does every later report of it.
func TestKilledWhileRunning(t *testing.T) {
	d := launch(t, "sleeper", fixture.Flavour{})
	pid := d.ProcessPid()
	go func() {
		time.Sleep(300 * time.Millisecond)
		syscall.Kill(pid, syscall.SIGKILL)
	}()
	st := run(t, d, api.Continue)
	if !st.Exited || st.ExitStatus != -9 || st.Pid != pid {
		t.Fatalf("continue: exited %v status %d pid %d, want exited with -9, pid %d", st.Exited, st.ExitStatus, st.Pid, pid)
	}
	want := fmt.Sprintf("Process %d has exited with status -9", pid)
	if _, err := d.State(false); err == nil || err.Error() != want {
		t.Errorf("state after the kill: %v, want %q", err, want)
	}
	if _, err := d.Command(api.DebuggerCommand{Name: api.Continue}, nil); err == nil || err.Error() != want {
		t.Errorf("continue after the kill: %v, want %q", err, want)
	}
}
