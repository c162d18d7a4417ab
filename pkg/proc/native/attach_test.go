package native

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"golang.org/x/sys/unix"
)

// startSleeper runs the sleeper fixture outside the debugger and returns it
// once it has printed its pid.
func startSleeper(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	exe := fixture.Build(t, "sleeper", fixture.Flavour{})
	return testproc.StartPid(t, exe), exe
}

// taskStates returns the state letter of every thread of pid.
func taskStates(t *testing.T, pid int) map[int]byte {
	t.Helper()
	tids, err := listTasks(pid)
	if err != nil {
		t.Fatal(err)
	}
	states := map[int]byte{}
	for _, tid := range tids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
		if err != nil {
			continue // exited meanwhile
		}
		// The state follows the parenthesised command name.
		s := string(b)
		states[tid] = s[strings.LastIndexByte(s, ')')+2]
	}
	return states
}

func requireAllTraceStopped(t *testing.T, p *Process) {
	t.Helper()
	states := taskStates(t, p.Pid())
	if len(states) != len(p.Threads()) {
		t.Fatalf("kernel lists %d threads, debugger %d", len(states), len(p.Threads()))
	}
	for tid, st := range states {
		if st != 't' {
			t.Fatalf("thread %d in state %c, want t (tracing stop)", tid, st)
		}
		if _, ok := p.Thread(tid); !ok {
			t.Fatalf("thread %d not known to the debugger", tid)
		}
	}
}

// readTicks reads main.ticks without ptrace, so it works after Detach too.
func readTicks(t *testing.T, pid int, addr uint64) uint64 {
	t.Helper()
	buf := make([]byte, 8)
	local := []unix.Iovec{{Base: &buf[0]}}
	local[0].SetLen(8)
	if _, err := unix.ProcessVMReadv(pid, local, []unix.RemoteIovec{{Base: uintptr(addr), Len: 8}}, 0); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(buf)
}

// requireRunsFreely checks every thread left the tracing stop and the
// program still makes progress.
func requireRunsFreely(t *testing.T, pid int, ticksAddr uint64) {
	t.Helper()
	before := readTicks(t, pid, ticksAddr)
	time.Sleep(350 * time.Millisecond)
	for tid, st := range taskStates(t, pid) {
		if st == 't' || st == 'T' {
			t.Fatalf("thread %d still stopped (state %c) after Detach", tid, st)
		}
	}
	if after := readTicks(t, pid, ticksAddr); after <= before {
		t.Fatalf("ticks went from %d to %d in 350ms: program not running", before, after)
	}
}

func TestAttachBreakpointDetach(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	cmd, exe := startSleeper(t)
	pid := cmd.Process.Pid
	p, err := Attach(pid)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	if p.Pid() != pid || len(p.Threads()) < 2 {
		t.Fatalf("attached pid %d with %d threads", p.Pid(), len(p.Threads()))
	}
	requireAllTraceStopped(t, p)

	ticks := symbol(t, exe, "main.ticks")
	tick := symbol(t, exe, "main.tick")
	orig := insertInt3(t, p, tick)
	ev := continueTo(t, p, proc.StopKindTrap)
	if len(ev.Trapped) != 1 || pc(t, ev.Trapped[0]) != tick+1 {
		t.Fatalf("trapped %d threads, want 1 at main.tick+1", len(ev.Trapped))
	}
	requireAllTraceStopped(t, p)
	before := readTicks(t, pid, ticks)
	if _, err := p.WriteMemory(tick, orig); err != nil {
		t.Fatal(err)
	}
	if err := ev.Trapped[0].SetPC(tick); err != nil {
		t.Fatal(err)
	}
	if err := p.Detach(); err != nil {
		t.Fatalf("Detach: %v", err)
	}
	if _, err := p.Continue(); !errors.Is(err, ErrDetached) {
		t.Fatalf("Continue after Detach: %v, want ErrDetached", err)
	}
	if tr, _ := tracerPid(pid); tr != 0 {
		t.Fatalf("TracerPid %d after Detach", tr)
	}
	requireRunsFreely(t, pid, ticks)
	if readTicks(t, pid, ticks) <= before {
		t.Fatal("tick did not run after the breakpoint was removed")
	}

	cmd.Process.Kill()
	err = cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("sleeper ended with %v, want killed by SIGKILL", err)
	}
}

func TestRequestHaltAttached(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	cmd, exe := startSleeper(t)
	p, err := Attach(cmd.Process.Pid)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	ticks := symbol(t, exe, "main.ticks")
	for round := 0; round < 3; round++ {
		before := readTicks(t, p.Pid(), ticks)
		timer := time.AfterFunc(300*time.Millisecond, p.RequestHalt)
		continueTo(t, p, proc.StopKindHalt)
		timer.Stop()
		requireAllTraceStopped(t, p)
		if after := readTicks(t, p.Pid(), ticks); after <= before {
			t.Fatalf("round %d: ticks %d → %d: program did not run under Continue", round, before, after)
		}
	}
	// A halt requested while stopped makes the next Continue return at once.
	p.RequestHalt()
	continueTo(t, p, proc.StopKindHalt)
	if err := p.Detach(); err != nil {
		t.Fatalf("Detach: %v", err)
	}
	requireRunsFreely(t, cmd.Process.Pid, ticks)
}

func TestRequestHaltLaunched(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	exe := fixture.Build(t, "sleeper", fixture.Flavour{Optimized: true})
	r, w := pipe(t)
	p := launch(t, LaunchConfig{Path: exe, Stdout: w})
	w.Close()
	go func() {
		// Halt once the program has printed its pid, i.e. really runs.
		bufio.NewReader(r).ReadString('\n')
		time.Sleep(100 * time.Millisecond)
		p.RequestHalt()
	}()
	continueTo(t, p, proc.StopKindHalt)
	requireAllTraceStopped(t, p)
	if err := p.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if !p.Exited() {
		t.Fatal("Exited() = false after Kill")
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", p.Pid())); !os.IsNotExist(err) {
		t.Fatalf("process %d still exists after Kill (%v)", p.Pid(), err)
	}
}

func TestAttachErrors(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	pidMax, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	missing := pidMax + 1
	_, err = Attach(missing)
	if want := fmt.Sprintf("attach %d: no such process", missing); err == nil || err.Error() != want {
		t.Fatalf("Attach(missing) = %v, want %q", err, want)
	}
	if !errors.Is(err, ErrNoSuchProcess) {
		t.Fatal("error does not wrap ErrNoSuchProcess")
	}

	exe := fixture.Build(t, "sleeper", fixture.Flavour{})
	_, w := pipe(t)
	p := launch(t, LaunchConfig{Path: exe, Stdout: w})
	_, err = Attach(p.Pid())
	if want := fmt.Sprintf("attach %d: already traced by %d", p.Pid(), os.Getpid()); err == nil || err.Error() != want {
		t.Fatalf("Attach(traced) = %v, want %q", err, want)
	}
	if !errors.Is(err, ErrAlreadyTraced) {
		t.Fatal("error does not wrap ErrAlreadyTraced")
	}
	var traced *AlreadyTracedError
	if !errors.As(err, &traced) || traced.Pid != p.Pid() || traced.Tracer != os.Getpid() {
		t.Fatalf("Attach(traced) = %#v, want an *AlreadyTracedError{Pid: %d, Tracer: %d}", err, p.Pid(), os.Getpid())
	}
	if err := CheckAttachable(os.Getpid()); !errors.Is(err, ErrAttachSelf) || err.Error() != fmt.Sprintf("attach %d: cannot attach to the debugger itself", os.Getpid()) {
		t.Fatalf("CheckAttachable(self) = %v", err)
	}
}
