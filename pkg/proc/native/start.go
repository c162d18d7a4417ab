package native

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// addrNoRandomize is ADDR_NO_RANDOMIZE from <sys/personality.h>.
const addrNoRandomize = 0x0040000

// Launch starts cfg.Path under ptrace. The process is returned stopped at
// its exec, before its first instruction; the threads it creates are traced,
// and it is killed if the debugger dies.
func Launch(cfg LaunchConfig) (*Process, error) {
	path := cfg.Path
	if !strings.Contains(path, "/") {
		found, err := exec.LookPath(path)
		if err != nil {
			return nil, fmt.Errorf("launch %s: %w", path, err)
		}
		path = found
	}
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	files := []uintptr{fdOr(cfg.Stdin, os.Stdin), fdOr(cfg.Stdout, os.Stdout), fdOr(cfg.Stderr, os.Stderr)}
	attr := &syscall.ProcAttr{
		Dir:   cfg.Dir,
		Env:   env,
		Files: files,
		// Setpgid keeps the terminal's Ctrl-C for the debugger, which turns
		// it into RequestHalt, instead of killing the program.
		Sys: &syscall.SysProcAttr{Ptrace: true, Setpgid: true},
	}
	argv := append([]string{cfg.Path}, cfg.Args...)

	p := &Process{launched: true, pt: newPtracer(), threads: map[int]*Thread{}}
	var err error
	_, perr := p.pt.run(func() bool {
		err = p.startOnPtraceThread(path, argv, attr, cfg.DisableASLR)
		return err != nil
	})
	if err = errors.Join(err, p.pt.endAfterPanic(perr)); err != nil {
		return nil, fmt.Errorf("launch %s: %w", cfg.Path, err)
	}
	return p, nil
}

func fdOr(f, def *os.File) uintptr {
	if f == nil {
		f = def
	}
	return f.Fd()
}

// startOnPtraceThread forks from the ptrace thread, because PTRACE_TRACEME
// makes the forking thread the tracer.
func (p *Process) startOnPtraceThread(path string, argv []string, attr *syscall.ProcAttr, noASLR bool) error {
	if noASLR {
		// The personality is inherited through fork and exec; this thread is
		// never reused by other goroutines, but restore it anyway.
		old, _, errno := unix.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
		if errno != 0 {
			return fmt.Errorf("personality: %w", errno)
		}
		unix.RawSyscall(unix.SYS_PERSONALITY, old|addrNoRandomize, 0, 0)
		defer unix.RawSyscall(unix.SYS_PERSONALITY, old, 0, 0)
	}
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return err
	}
	p.pid = pid
	ws, err := waitTid(pid)
	if err != nil {
		return fmt.Errorf("waiting for exec stop: %w", err)
	}
	if !ws.Stopped() {
		return fmt.Errorf("process %d ended before its first instruction (status %#x)", pid, uint32(ws))
	}
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_TRACECLONE|unix.PTRACE_O_EXITKILL); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		waitTid(pid)
		return fmt.Errorf("setting ptrace options: %w", err)
	}
	if p.mem, err = os.OpenFile(fmt.Sprintf("/proc/%d/mem", pid), os.O_RDWR, 0); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		waitTid(pid)
		return err
	}
	// The exec SIGTRAP is the kernel's note to the tracer, not a signal for
	// the program: it is not queued for delivery.
	p.threads[pid] = &Thread{p: p, tid: pid, stopped: true, inSignalStop: true}
	return nil
}

// Attach attaches to every thread of a running process and stops them all.
// Errors are one line: "attach PID: no such process", "attach PID: already
// traced by TRACER", "attach PID: permission denied ...".
func Attach(pid int) (*Process, error) {
	if err := CheckAttachable(pid); err != nil {
		return nil, err
	}
	p := &Process{pid: pid, pt: newPtracer(), threads: map[int]*Thread{}}
	var err error
	_, perr := p.pt.run(func() bool {
		err = p.attachOnPtraceThread()
		return err != nil
	})
	if err = errors.Join(err, p.pt.endAfterPanic(perr)); err != nil {
		return nil, err
	}
	return p, nil
}

// CheckAttachable is Attach's check of pid before any thread is touched,
// for a caller that wants to refuse early: it wraps ErrNoSuchProcess or
// ErrAttachSelf, or returns an *AlreadyTracedError.
func CheckAttachable(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("attach %d: %w", pid, ErrNoSuchProcess)
	}
	if pid == os.Getpid() {
		return fmt.Errorf("attach %d: %w", pid, ErrAttachSelf)
	}
	tracer, err := tracerPid(pid)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("attach %d: %w", pid, ErrNoSuchProcess)
	}
	if err != nil {
		return fmt.Errorf("attach %d: %w", pid, err)
	}
	if tracer != 0 {
		return &AlreadyTracedError{Pid: pid, Tracer: tracer}
	}
	return nil
}

// tracerPid returns the process id of pid's tracer, 0 if none. The kernel
// reports the tracing *thread* in TracerPid; users know the process.
func tracerPid(pid int) (int, error) {
	tracer, err := statusField(pid, "TracerPid")
	if err != nil || tracer == 0 {
		return tracer, err
	}
	if tgid, err := statusField(tracer, "Tgid"); err == nil {
		return tgid, nil
	}
	return tracer, nil
}

// statusField reads one numeric field of /proc/PID/status.
func statusField(pid int, name string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", name, pid)
}

func (p *Process) attachOnPtraceThread() error {
	// Threads may be created while earlier ones are being attached, so list
	// the tasks again until a pass finds nothing new.
	for {
		tids, err := listTasks(p.pid)
		if err != nil {
			p.releaseAttached()
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("attach %d: %w", p.pid, ErrNoSuchProcess)
			}
			return fmt.Errorf("attach %d: %w", p.pid, err)
		}
		added := 0
		for _, tid := range tids {
			if _, ok := p.threads[tid]; ok {
				continue
			}
			if err := p.attachThread(tid); err != nil {
				p.releaseAttached()
				return err
			}
			added++
		}
		if added == 0 {
			break
		}
	}
	if len(p.threads) == 0 {
		return fmt.Errorf("attach %d: %w", p.pid, ErrNoSuchProcess)
	}
	var err error
	if p.mem, err = os.OpenFile(fmt.Sprintf("/proc/%d/mem", p.pid), os.O_RDWR, 0); err != nil {
		p.releaseAttached()
		return fmt.Errorf("attach %d: %w", p.pid, err)
	}
	return nil
}

// attachThread attaches one task and waits for its attach SIGSTOP. A thread
// that vanished in the meantime is skipped.
func (p *Process) attachThread(tid int) error {
	if err := unix.PtraceAttach(tid); err != nil {
		switch err {
		case unix.ESRCH:
			return nil
		case unix.EPERM:
			if tracer, terr := tracerPid(p.pid); terr == nil && tracer != 0 {
				return &AlreadyTracedError{Pid: p.pid, Tracer: tracer}
			}
			return fmt.Errorf("attach %d: permission denied (need root or CAP_SYS_PTRACE, or a lower kernel.yama.ptrace_scope): %w", p.pid, err)
		}
		return fmt.Errorf("attach %d: thread %d: %w", p.pid, tid, err)
	}
	t := &Thread{p: p, tid: tid}
	for {
		ws, err := waitTid(tid)
		if err != nil {
			return fmt.Errorf("attach %d: waiting for thread %d: %w", p.pid, tid, err)
		}
		if ws.Exited() || ws.Signaled() {
			return nil
		}
		if !ws.Stopped() {
			continue
		}
		if ws.StopSignal() == unix.SIGSTOP {
			break
		}
		info, err := getSiginfo(tid)
		// A program signal that beat the attach SIGSTOP: keep it and go on
		// waiting; the SIGSTOP is still pending and arrives next.
		if err == nil {
			t.queueSignal(int(ws.StopSignal()), info)
		}
		if err := ptrace(unix.PTRACE_CONT, tid, 0, 0); err != nil {
			return fmt.Errorf("attach %d: thread %d: %w", p.pid, tid, err)
		}
	}
	t.stopped, t.inSignalStop = true, true
	if err := unix.PtraceSetOptions(tid, unix.PTRACE_O_TRACECLONE); err != nil {
		return fmt.Errorf("attach %d: thread %d: setting options: %w", p.pid, tid, err)
	}
	p.mu.Lock()
	p.threads[tid] = t
	p.mu.Unlock()
	return nil
}

// releaseAttached undoes a partial attach.
func (p *Process) releaseAttached() {
	for tid, t := range p.threads {
		sig, _ := t.takePending()
		_ = ptrace(unix.PTRACE_DETACH, tid, 0, uintptr(sig))
	}
	p.threads = map[int]*Thread{}
}

func listTasks(pid int) ([]int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, err
	}
	var tids []int
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
