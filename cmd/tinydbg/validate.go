package main

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
)

// checkExecutable rejects, with one clear sentence, files tinydbg cannot
// debug, before any process is started. The verdict is bininfo.Open's, the
// one the debugger would reach; only its wording is the command line's.
func checkExecutable(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory, not an executable (use 'tinydbg debug %s' to build and debug a package)", path, path)
	}
	bi, err := bininfo.Open(path)
	if err == nil {
		return bi.Close()
	}
	var arch *bininfo.ArchError
	switch {
	case errors.Is(err, bininfo.ErrNotExist):
		return fmt.Errorf("%s does not exist", path)
	case errors.As(err, &arch):
		built := arch.Machine.String()
		if arch.Machine == elf.EM_X86_64 {
			built = arch.Class.String() // x32: the right machine, 32-bit
		}
		return fmt.Errorf("%s is built for %s; tinydbg debugs linux/amd64 programs only", path, built)
	case errors.Is(err, bininfo.ErrNotELF):
		return fmt.Errorf("%s is not an ELF executable", path)
	case errors.Is(err, bininfo.ErrNotGo):
		return fmt.Errorf("%s is not a Go program (no Go build information)", path)
	case errors.Is(err, bininfo.ErrNoDWARF):
		return fmt.Errorf("%s has no DWARF debug information (was it built with -ldflags=-w or -s?); rebuild it without them", path)
	}
	return fmt.Errorf("cannot use %s: %w", path, err)
}

// checkAttachable rejects pids that do not exist or that another tracer
// (a debugger, strace) already holds, since ptrace would fail obscurely.
// The verdict is native.CheckAttachable's, the one Attach would reach.
func checkAttachable(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("invalid pid %d", pid)
	}
	var traced *native.AlreadyTracedError
	switch err := native.CheckAttachable(pid); {
	case errors.As(err, &traced):
		return fmt.Errorf("process %d is already being traced by process %d (%s)", pid, traced.Tracer, processName(traced.Tracer))
	case errors.Is(err, native.ErrAttachSelf):
		return errors.New("tinydbg cannot attach to itself")
	case errors.Is(err, native.ErrNoSuchProcess):
		return fmt.Errorf("no process with pid %d", pid)
	case err != nil:
		return fmt.Errorf("cannot inspect process %d: %w", pid, err)
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return fmt.Errorf("cannot read the executable of process %d: %w", pid, err)
	}
	if err := checkExecutable(exe); err != nil {
		return fmt.Errorf("process %d: %w", pid, err)
	}
	return nil
}

// checkTracePid is checkAttachable for `trace --pid`: the ptrace backend
// attaches as `attach` does; the eBPF one needs only the process to exist
// (its uprobes work beside another tracer).
func checkTracePid(pid int, ebpf bool) error {
	if !ebpf {
		return checkAttachable(pid)
	}
	if pid <= 0 {
		return fmt.Errorf("invalid pid %d", pid)
	}
	if errors.Is(native.CheckAttachable(pid), native.ErrNoSuchProcess) {
		return fmt.Errorf("no process with pid %d", pid)
	}
	return nil
}

func processName(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
