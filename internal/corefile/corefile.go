// Package corefile makes the kernel write core files of fixtures, for the
// tests of the core backend and of `tinydbg core`.
package corefile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tinydbg/tinydbg/internal/testenv"
)

const patternFile = "/proc/sys/kernel/core_pattern"

// mu serializes crashes in one test binary: the core size limit and the
// pattern are process- and machine-wide.
var mu sync.Mutex

// Crash runs bin with args under GOTRACEBACK=crash, with no limit on the
// size of its core, in a new temporary directory, and returns the path of
// the core the kernel wrote there. A core pattern that would send the core
// elsewhere (a pipe to a handler, an absolute path) is replaced by "core"
// for the run and restored after it, which needs root.
func Crash(t testing.TB, bin string, args ...string) (core string, pid int) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	dir := t.TempDir()
	old, err := os.ReadFile(patternFile)
	if err != nil {
		testenv.SkipOrFail(t, "reading %s: %v", patternFile, err)
	}
	if p := strings.TrimSpace(string(old)); strings.HasPrefix(p, "|") || strings.Contains(p, "/") {
		testenv.RequireRoot(t)
		if err := os.WriteFile(patternFile, []byte("core"), 0o644); err != nil {
			testenv.SkipOrFail(t, "setting the core pattern: %v", err)
		}
		defer func() {
			if err := os.WriteFile(patternFile, old, 0o644); err != nil {
				t.Errorf("restoring the core pattern %q: %v", old, err)
			}
		}()
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
		t.Fatal(err)
	}
	unlimited := syscall.Rlimit{Cur: ^uint64(0), Max: ^uint64(0)}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &unlimited); err != nil {
		testenv.SkipOrFail(t, "lifting the core size limit: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOTRACEBACK=crash")
	startErr := cmd.Start()
	// The child has inherited the limit; the tests go on with the old one.
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
		t.Errorf("restoring the core size limit: %v", err)
	}
	if startErr != nil {
		t.Fatal(startErr)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("%s did not crash: %v", bin, err)
	}
	ws := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || !ws.CoreDump() {
		t.Fatalf("%s ended with %v, not a core dump", bin, err)
	}
	cores, _ := filepath.Glob(filepath.Join(dir, "core*"))
	if len(cores) != 1 {
		t.Fatalf("the kernel dumped core but %s holds %d core files", dir, len(cores))
	}
	return cores[0], cmd.Process.Pid
}
