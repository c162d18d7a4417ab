package main

import (
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// checkExecutable rejects, with one clear sentence, files tinydbg cannot
// debug, before any process is started: a missing path, a non-ELF file, an
// ELF that is not a Go program, or a Go program without DWARF.
func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s does not exist", path)
		}
		return fmt.Errorf("cannot use %s: %w", path, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory, not an executable (use 'tinydbg debug %s' to build and debug a package)", path, path)
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not an ELF executable", path)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("%s is built for %v; tinydbg debugs linux/amd64 programs only", path, f.Machine)
	}
	if _, err := buildinfo.ReadFile(path); err != nil && f.Section(".gopclntab") == nil {
		return fmt.Errorf("%s is not a Go program (no Go build information)", path)
	}
	if f.Section(".debug_info") == nil && f.Section(".zdebug_info") == nil {
		return fmt.Errorf("%s has no DWARF debug information (was it built with -ldflags=-w or -s?); rebuild it without them", path)
	}
	return nil
}

// checkAttachable rejects pids that do not exist or that another tracer
// (a debugger, strace) already holds, since ptrace would fail obscurely.
func checkAttachable(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("invalid pid %d", pid)
	}
	if pid == os.Getpid() {
		return errors.New("tinydbg cannot attach to itself")
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no process with pid %d", pid)
		}
		return fmt.Errorf("cannot inspect process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		v, ok := strings.CutPrefix(line, "TracerPid:")
		if !ok {
			continue
		}
		tracer, _ := strconv.Atoi(strings.TrimSpace(v))
		if tracer != 0 {
			// TracerPid names the tracing thread; users know the process.
			tracer = threadGroupOf(tracer)
			return fmt.Errorf("process %d is already being traced by process %d (%s)", pid, tracer, processName(tracer))
		}
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

func processName(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// threadGroupOf returns the process (thread group) a thread belongs to, or
// tid itself when /proc cannot tell.
func threadGroupOf(tid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return tid
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			if tgid, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return tgid
			}
		}
	}
	return tid
}
