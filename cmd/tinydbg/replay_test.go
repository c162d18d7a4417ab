package main

import (
	"strings"
	"testing"
)

// TestReplayCommandRefused runs dlv's replay lines: each fails with one
// line saying that tinydbg has no rr backend and what rr can do here.
func TestReplayCommandRefused(t *testing.T) {
	const refusal = "Error: replay is not supported: tinydbg has no rr backend; "
	dir := t.TempDir()
	t.Run("this machine", func(t *testing.T) {
		for _, args := range [][]string{{"replay", dir}, {"replay", "-p", "1", dir}, {"replay"}} {
			r := run(t, dir, "", args...)
			t.Logf("tinydbg %v: %s", args, r.stderr)
			if r.code == 0 || !strings.HasPrefix(r.stderr, refusal) || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
				t.Errorf("tinydbg %v: code %d, stdout %q, stderr %q, want one line starting %q", args, r.code, r.stdout, r.stderr, refusal)
			}
		}
	})
	t.Run("rr missing", func(t *testing.T) {
		t.Setenv("PATH", dir)
		r := run(t, dir, "", "replay", dir)
		if want := refusal + "rr is not installed (not found in $PATH)\n"; r.code == 0 || r.stderr != want {
			t.Errorf("code %d, stderr %q, want %q", r.code, r.stderr, want)
		}
	})
}
