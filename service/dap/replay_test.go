package dap

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayRefused launches mode "replay" with PATH holding stand-ins for
// rr and true, so that each thing the error can say about rr is checked
// exactly, then with the machine's own PATH, where the line must still be
// one line with the refusal first.
func TestReplayRefused(t *testing.T) {
	const refusal = "Failed to launch: replay is not supported: tinydbg has no rr backend; "
	script := func(dir, name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cannot := `case "$1" in
--version) echo "rr version 9.9.9" ;;
record) echo "[FATAL ./src/PerfCounters_x86.h:114:compute_cpu_microarch()] AMD CPU type 0xf20 (ext family 0xb) unknown" >&2
	echo "=== Start rr backtrace:" >&2; exit 1 ;;
esac
`
	for _, tc := range []struct {
		name     string
		rr       string // the stand-in rr's script; "" for none
		paranoid string // perf_event_paranoid's content
		want     string
	}{
		{"rr missing", "", "2\n", "rr is not installed (not found in $PATH)"},
		{"rr cannot record", cannot, "1\n", "rr version 9.9.9 at DIR/rr cannot record on this machine either: rr record DIR/true: AMD CPU type 0xf20 (ext family 0xb) unknown"},
		{"rr cannot record, paranoid kernel", cannot, "2\n", "rr version 9.9.9 at DIR/rr cannot record on this machine either: rr record DIR/true: AMD CPU type 0xf20 (ext family 0xb) unknown; DIR/paranoid is 2, rr needs 1 or less"},
		// The trial recording must go to a directory of its own, given
		// the way every rr version reads.
		{"rr records", `case "$1" in
--version) echo "rr version 9.9.9" ;;
record) [ -d "$_RR_TRACE_DIR" ] && [ "$2" = "${0%/rr}/true" ] || exit 3 ;;
esac
`, "2\n", "rr version 9.9.9 at DIR/rr records on this machine: replay its traces with dlv replay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			script(dir, "true", "exit 0\n")
			if tc.rr != "" {
				script(dir, "rr", tc.rr)
			}
			if err := os.WriteFile(filepath.Join(dir, "paranoid"), []byte(tc.paranoid), 0o644); err != nil {
				t.Fatal(err)
			}
			defer func(p string) { perfParanoidPath = p }(perfParanoidPath)
			perfParanoidPath = filepath.Join(dir, "paranoid")
			t.Setenv("PATH", dir)
			got := launchReplay(t)
			if want := refusal + strings.ReplaceAll(tc.want, "DIR", dir); got != want {
				t.Errorf("launch replay:\n got %q\nwant %q", got, want)
			}
		})
	}
	t.Run("this machine", func(t *testing.T) {
		got := launchReplay(t)
		t.Logf("here: %s", got)
		if !strings.HasPrefix(got, refusal) || strings.Contains(got, "\n") {
			t.Errorf("launch replay: %q, want one line starting %q", got, refusal)
		}
		if _, err := exec.LookPath("rr"); err == nil && !strings.Contains(got, " at ") {
			t.Errorf("rr is in PATH but the line does not say where: %q", got)
		}
	})
}

// launchReplay sends a replay launch, as vscode-go does, and returns the
// error shown to the user; the session must go on.
func launchReplay(t *testing.T) string {
	t.Helper()
	ts := startServer(t)
	c := dial(t, ts)
	c.initialize()
	seq := c.send("launch", map[string]any{"mode": "replay", "traceDirPath": "/nonexistent/trace"})
	er := c.expectError(seq)
	if !er.Body.Error.ShowUser {
		t.Errorf("replay error not shown to the user: %+v", er.Body.Error)
	}
	c.initialize() // still serving
	return er.Body.Error.Format
}
