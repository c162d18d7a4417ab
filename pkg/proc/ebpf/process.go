package ebpf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Process is the process an eBPF trace watches. It is never under
// ptrace while probes fire: a program we start is held under ptrace only
// from its exec until its probes are attached, and a running one is never
// attached at all. Without a tracer every signal the program gets (the Go
// scheduler's SIGURG preemptions above all) goes straight to it.
type Process struct {
	pid int
	// pidfd refers to this process even once its pid is reused; it becomes
	// readable when the process ends.
	pidfd int
	// launched holds a program we started until Release lets it run; once
	// released it is still our child, which we reap for its exit status.
	launched Held
	child    bool
	ended    bool // reaped (child) or seen gone (pidfd)
}

// End is how the traced process ended, when it did.
type End struct {
	Exited      bool
	Code, Sig   int
	UnknownCode bool // not our child: its status goes to its own parent
}

// Held is a program the caller started under a debugger backend, stopped
// before its first instruction, which Release lets go. It is the only part
// of a backend the eBPF lifecycle needs; the native backend's process is one.
type Held interface {
	Pid() int
	// Detach lets the program run on, still our child.
	Detach() error
	// Kill kills and reaps the program.
	Kill() error
}

// Started watches np, a program we started and hold stopped: it runs once
// Release lets it go. On an error np is killed.
func Started(np Held) (*Process, error) {
	t := &Process{pid: np.Pid(), pidfd: -1, launched: np, child: true}
	var err error
	if t.pidfd, err = unix.PidfdOpen(t.pid, 0); err != nil {
		_ = np.Kill()
		return nil, fmt.Errorf("pidfd_open %d: %w", t.pid, err)
	}
	return t, nil
}

// Running refers to the running process pid without stopping it.
func Running(pid int) (*Process, error) {
	if pid <= 0 || pid == os.Getpid() {
		return nil, fmt.Errorf("trace %d: not a process that can be traced", pid)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil, fmt.Errorf("trace %d: %w", pid, err) // "no such process"
		}
		return nil, fmt.Errorf("trace %d: pidfd_open: %w", pid, err)
	}
	return &Process{pid: pid, pidfd: fd}, nil
}

// Pid returns the process id.
func (t *Process) Pid() int { return t.pid }

// Executable returns the path to open for pid's binary: the file it was
// started from if that is still the same file, else /proc/PID/exe, which
// keeps reaching it after it was deleted or replaced (a rebuild).
func Executable(pid int) (string, error) {
	proc := fmt.Sprintf("/proc/%d/exe", pid)
	path, err := os.Readlink(proc)
	if err != nil {
		return "", fmt.Errorf("trace %d: %w", pid, err)
	}
	want, err := os.Stat(proc)
	if err != nil {
		return "", fmt.Errorf("trace %d: %w", pid, err)
	}
	if got, err := os.Stat(path); err != nil || !os.SameFile(got, want) || strings.HasSuffix(path, " (deleted)") {
		return proc, nil
	}
	return path, nil
}

// AuxvEntry reads AT_ENTRY, the run-time entry address, from pid's
// auxiliary vector; minus the ELF header's entry it is a PIE's load bias.
func AuxvEntry(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/auxv", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the load address of %d: %w", pid, err)
	}
	const atEntry = 9
	for i := 0; i+16 <= len(b); i += 16 {
		switch binary.LittleEndian.Uint64(b[i:]) {
		case atEntry:
			return binary.LittleEndian.Uint64(b[i+8:]), nil
		case 0:
			i = len(b)
		}
	}
	return 0, fmt.Errorf("no AT_ENTRY in /proc/%d/auxv", pid)
}

// Release ends ptrace on a program we started, leaving it running and our
// child. It is a no-op for a process we did not start.
func (t *Process) Release() error {
	if t.launched == nil {
		return nil
	}
	np := t.launched
	t.launched = nil
	if err := np.Detach(); err != nil {
		return fmt.Errorf("releasing %d from ptrace: %w", t.pid, err)
	}
	return nil
}

// Wait blocks until the process ends or ctx is cancelled. On cancellation
// a child is killed and reaped (ended stays false: it was interrupted); a
// process we did not start is left running.
func (t *Process) Wait(ctx context.Context) (End, error) {
	cancelFd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return End{}, fmt.Errorf("eventfd: %w", err)
	}
	defer unix.Close(cancelFd)
	stop := context.AfterFunc(ctx, func() {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		_, _ = unix.Write(cancelFd, one[:])
	})
	defer stop()
	fds := []unix.PollFd{{Fd: int32(t.pidfd), Events: unix.POLLIN}, {Fd: int32(cancelFd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return End{}, fmt.Errorf("waiting for %d: %w", t.pid, err)
		}
		if fds[0].Revents != 0 {
			return t.reap()
		}
		if fds[1].Revents != 0 {
			return End{}, t.interrupt()
		}
	}
}

// reap collects the end of a process whose pidfd became readable.
func (t *Process) reap() (End, error) {
	t.ended = true
	if !t.child {
		return End{Exited: true, UnknownCode: true}, nil
	}
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(t.pid, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return End{}, fmt.Errorf("reaping %d: %w", t.pid, err)
		}
		break
	}
	if ws.Signaled() {
		return End{Exited: true, Sig: int(ws.Signal())}, nil
	}
	return End{Exited: true, Code: ws.ExitStatus()}, nil
}

// interrupt kills and reaps a child; a process we did not start runs on.
func (t *Process) interrupt() error {
	if !t.child || t.ended {
		return nil
	}
	if err := unix.PidfdSendSignal(t.pidfd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("killing %d: %w", t.pid, err)
	}
	_, err := t.reap()
	return err
}

// Close kills a child still held under ptrace or still running (an error
// path: nothing may be left behind) and releases the pidfd.
func (t *Process) Close() {
	if t.launched != nil {
		_ = t.launched.Kill() // kills and reaps under ptrace
		t.launched = nil
		t.ended = true
	}
	_ = t.interrupt()
	unix.Close(t.pidfd)
}
