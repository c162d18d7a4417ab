package debugger_test

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
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
	// As in Delve, a command that resumes answers with the exited state.
	if st, err := d.Command(api.DebuggerCommand{Name: api.Next}, nil); err != nil || !st.Exited || st.ExitStatus != -9 || st.Pid != pid {
		t.Errorf("next after kill: %+v, %v, want exited with -9, pid %d", st, err, pid)
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
	if st, err := d.Command(api.DebuggerCommand{Name: api.Continue}, nil); err != nil || !st.Exited || st.ExitStatus != -9 || st.Pid != pid {
		t.Errorf("continue after the kill: %+v, %v, want exited with -9, pid %d", st, err, pid)
	}
}

// TestCommandAfterExit runs every resuming command, and halt, on a program
// that has exited with status 7: as in Delve's Command, each answers with
// the exited state (pid, Exited, the status) and no error; the user's
// error text is made from it by the client.
func TestCommandAfterExit(t *testing.T) {
	testenv.RequirePtrace(t)
	bin := fixture.Build(t, "traceprog", fixture.Flavour{})
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devnull.Close() })
	d, err := debugger.New(debugger.Config{Path: bin, Args: []string{"exit", "7"}, Stdout: devnull, Stderr: devnull})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Detach(true) })
	pid := d.ProcessPid()
	st := run(t, d, api.Continue)
	if !st.Exited || st.ExitStatus != 7 || st.Pid != pid {
		t.Fatalf("continue: %+v, want exited with 7, pid %d", st, pid)
	}
	for _, name := range []string{api.Step, api.Next, api.StepOut, api.Continue, api.StepInstruction, api.NextInstruction, api.Halt} {
		st, err := d.Command(api.DebuggerCommand{Name: name}, nil)
		if err != nil || st == nil || !st.Exited || st.ExitStatus != 7 || st.Pid != pid || st.CurrentThread != nil {
			t.Errorf("%s after exit: %+v, %v, want exited with 7, pid %d", name, st, err, pid)
		}
	}
	// Switching is not a resume: Delve, too, reports it as an error.
	if _, err := d.Command(api.DebuggerCommand{Name: api.SwitchGoroutine, GoroutineID: 1}, nil); err == nil {
		t.Error("switching goroutine after exit: no error")
	}
}
