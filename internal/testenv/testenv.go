// Package testenv decides what tests may do on this machine. Under
// TINYDBG_STRICT=1 (set by CI) a missing capability fails the test instead of
// skipping it, so a broken feature can never hide behind a silent skip.
package testenv

import (
	"os"
	"testing"
)

// Strict reports whether missing capabilities must fail tests.
func Strict() bool { return os.Getenv("TINYDBG_STRICT") == "1" }

// SkipOrFail skips the test, or fails it in strict mode.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if Strict() {
		t.Fatalf("TINYDBG_STRICT=1: "+format, args...)
	}
	t.Skipf(format, args...)
}

// RequireRoot stops the test unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(t, "test needs root")
	}
}

// RequirePtrace stops the test unless this process may ptrace its children.
func RequirePtrace(t testing.TB) {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	if err == nil && len(b) > 0 && b[0] >= '2' && os.Geteuid() != 0 {
		SkipOrFail(t, "ptrace is restricted by Yama (ptrace_scope=%c)", b[0])
	}
}
