package proc

import (
	"fmt"
	"os"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
)

// LaunchConfig says how to start a program under the debugger.
type LaunchConfig struct {
	Dir                   string   // working directory; empty: the debugger's
	Env                   []string // environment; nil: the debugger's
	Stdin, Stdout, Stderr *os.File // nil: the debugger's own
	DisableASLR           bool
}

// Backend starts and attaches to processes. The core knows no backend:
// the service or the trace session chooses one (native.Backend, for
// ptrace) and hands it to Launch or Attach; a Restart asks it again.
type Backend interface {
	// Launch starts path with args, stopped before its first instruction.
	Launch(path string, args []string, cfg LaunchConfig) (Process, error)
	// Attach stops the running process pid and takes control of it.
	Attach(pid int) (Process, error)
}

// Launch starts path with args through b, stopped before its first
// instruction. The binary is opened first, so a missing file or missing
// debug information fails before any process exists.
func Launch(b Backend, path string, args []string, cfg LaunchConfig) (*Target, error) {
	bi, err := bininfo.Open(path)
	if err != nil {
		return nil, err
	}
	p, err := b.Launch(path, args, cfg)
	if err != nil {
		bi.Close()
		return nil, fmt.Errorf("launching %s: %w", path, err)
	}
	t, err := newTarget(p, bi)
	if err != nil {
		return nil, err
	}
	t.launched = &launchSpec{backend: b, path: path, args: append([]string(nil), args...), cfg: cfg}
	return t, nil
}

// Attach takes control of the running process pid through b; its
// executable is read from /proc/PID/exe.
func Attach(b Backend, pid int) (*Target, error) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return nil, fmt.Errorf("attach %d: %w", pid, err)
	}
	bi, err := bininfo.Open(exe)
	if err != nil {
		return nil, fmt.Errorf("attach %d: %w", pid, err)
	}
	p, err := b.Attach(pid)
	if err != nil {
		bi.Close()
		return nil, err
	}
	return newTarget(p, bi)
}

func newTarget(p Process, bi *bininfo.BinaryInfo) (*Target, error) {
	t, err := NewTarget(p, NewSymbols(bi), NewRuntime(bi, p))
	if err != nil {
		_ = p.Kill()
		bi.Close()
		return nil, err
	}
	t.closeFn, t.bi = bi.Close, bi
	return t, nil
}

// Open makes a target of a process that was neither launched nor attached
// here — a core file — with the symbols of its executable exe. Such a
// target cannot be restarted; p is released if the symbols cannot be read.
func Open(p Process, exe string) (*Target, error) {
	bi, err := bininfo.Open(exe)
	if err != nil {
		_ = p.Kill()
		return nil, err
	}
	return newTarget(p, bi)
}
