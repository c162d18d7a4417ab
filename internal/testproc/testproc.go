// Package testproc starts fixture programs outside any debugger for tests
// that attach to them, and reads what tests compare about a live process:
// its tracer and its code against the executable's.
package testproc

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Start runs path with args, untraced, and returns once the program has
// printed its first line (without the newline). The program is killed and
// reaped at cleanup; its later output is drained so that it never blocks
// on a full pipe.
func Start(t testing.TB, path string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(path, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	rd := bufio.NewReader(out)
	line, err := rd.ReadString('\n')
	if err != nil {
		t.Fatalf("%s printed %q before %v", path, line, err)
	}
	go func() {
		for {
			if _, err := rd.ReadString('\n'); err != nil {
				return
			}
		}
	}()
	return cmd, strings.TrimSuffix(line, "\n")
}

// StartReady is Start for fixtures (traceprog loop) that print "ready"
// once their loop runs.
func StartReady(t testing.TB, path string, args ...string) *exec.Cmd {
	t.Helper()
	cmd, line := Start(t, path, args...)
	if line != "ready" {
		t.Fatalf("%s printed %q, want ready", path, line)
	}
	return cmd
}

// StartPid is Start for fixtures (sleeper) that print their pid once they
// run: the check proves the line came from the process the test attaches to.
func StartPid(t testing.TB, path string, args ...string) *exec.Cmd {
	t.Helper()
	cmd, line := Start(t, path, args...)
	if line != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("%s printed %q, its pid is %d", path, line, cmd.Process.Pid)
	}
	return cmd
}

// TracerPid reads TracerPid from /proc/PID/status: 0 when the process is
// not traced, -1 when the file cannot be read (the process is gone).
func TracerPid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "TracerPid:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return -1
}

// Symbol returns the ELF symbol name of the executable exe.
func Symbol(t testing.TB, exe, name string) elf.Symbol {
	t.Helper()
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("%s: no symbol %s", exe, name)
	return elf.Symbol{}
}

// Text returns the contents of the executable's .text section and its
// link address.
func Text(t testing.TB, exe string) (data []byte, addr uint64) {
	t.Helper()
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sec := f.Section(".text")
	if sec == nil {
		t.Fatalf("%s: no .text section", exe)
	}
	data, err = sec.Data()
	if err != nil {
		t.Fatalf("%s: reading .text: %v", exe, err)
	}
	return data, sec.Addr
}

// Memory reads n bytes at addr of the live process pid through
// /proc/PID/mem, which works whether or not the process is traced.
func Memory(t testing.TB, pid int, addr uint64, n int) []byte {
	t.Helper()
	m, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b := make([]byte, n)
	if _, err := m.ReadAt(b, int64(addr)); err != nil {
		t.Fatalf("reading %d bytes at %#x of process %d: %v", n, addr, pid, err)
	}
	return b
}

// DevNull opens /dev/null for writing, closed at cleanup: an output for a
// fixture whose output the test does not read.
func DevNull(t testing.TB) *os.File {
	t.Helper()
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// StartWaiting starts path with env added, for fixtures (hotargs) that
// print their pid and then wait for a line on stdin before they start
// work; it returns the program and the writer that lets it go. The program
// is killed and reaped at cleanup.
func StartWaiting(t testing.TB, path string, env ...string) (*exec.Cmd, *os.File) {
	t.Helper()
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), env...)
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = rd
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rd.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		wr.Close()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("%s printed %q (%v), want its pid", path, line, err)
	}
	return cmd, wr
}

// State reads the state letter of /proc/PID/stat ("T" when stopped, ""
// when the process is gone).
func State(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
