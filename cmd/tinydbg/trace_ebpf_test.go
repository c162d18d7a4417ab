package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
)

// TestTraceEBPFWithoutPermission runs `trace --ebpf` as an unprivileged
// user: the one line printed names the capabilities that are missing, and
// the program never ran (it would print its jobs on stdout and exit 3).
func TestTraceEBPFWithoutPermission(t *testing.T) {
	testenv.RequireRoot(t)
	bin := fixture.Build(t, "traceprog", fixture.Flavour{})
	// Copies of tinydbg and the program the unprivileged user can reach:
	// test temp dirs are 0700, and so may be $TMPDIR, so they go in a
	// directory of /tmp's own.
	dir, err := os.MkdirTemp("/tmp", "tinydbg-noperm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, prog := filepath.Join(dir, "tinydbg"), filepath.Join(dir, "traceprog")
	for to, from := range map[string]string{self: tinydbgBin, prog: bin} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin = prog
	cmd := exec.Command(self, "trace", "--ebpf", "--exec", bin, `main\.work$`, "--", "exit", "3")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, NoSetGroups: true}}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || ee.ExitCode() == 3 {
		t.Fatalf("exit: %v (3 would be the program's own status)", err)
	}
	want := "Error: no permission for eBPF tracing: missing CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); " +
		"run as root or grant them with setcap cap_bpf,cap_perfmon+ep\n"
	if stderr.String() != want || stdout.Len() != 0 {
		t.Fatalf("stderr %q stdout %q, want stderr %q", stderr.String(), stdout.String(), want)
	}
}
