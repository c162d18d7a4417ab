package dap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// rrProbeTimeout bounds the trial recording: rr that hangs must not hang
// the launch request with it.
const rrProbeTimeout = 20 * time.Second

// perfParanoidPath holds the kernel's perf_event_paranoid level, which rr
// needs at 1 or below; a variable so that tests can point it elsewhere.
var perfParanoidPath = "/proc/sys/kernel/perf_event_paranoid"

// ReplayUnsupported is the error of Delve's replay (dap mode "replay",
// `dlv replay`, --backend=rr). tinydbg has no rr backend, so replay always
// fails; the error also says what rr itself can do on this machine, since
// a user who sees the refusal next wants to know whether dlv could replay
// here instead: rr missing, rr unable to record (most virtual machines
// hide the CPU's performance counters it needs), or rr working.
func ReplayUnsupported() error {
	return fmt.Errorf("replay is not supported: tinydbg has no rr backend; %s", rrStatus())
}

// rrStatus finds rr in PATH and records a trivial program with it.
func rrStatus() string {
	rr, err := exec.LookPath("rr")
	if err != nil {
		return "rr is not installed (not found in $PATH)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), rrProbeTimeout)
	defer cancel()
	ver := "rr"
	if out, err := exec.CommandContext(ctx, rr, "--version").Output(); err == nil {
		if v := firstLine(out); v != "" {
			ver = v
		}
	}
	victim, err := exec.LookPath("true")
	if err != nil {
		return fmt.Sprintf("%s is installed at %s, but no 'true' program was found to try a recording with", ver, rr)
	}
	dir, err := os.MkdirTemp("", "tinydbg-rr-")
	if err != nil {
		return fmt.Sprintf("%s is installed at %s, but no directory for a trial recording: %v", ver, rr, err)
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, rr, "record", victim)
	// _RR_TRACE_DIR, not -o, so that old rr versions take it too.
	cmd.Env = append(os.Environ(), "_RR_TRACE_DIR="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if err == nil {
		return fmt.Sprintf("%s at %s records on this machine: replay its traces with dlv replay", ver, rr)
	}
	why := firstLine(stderr.Bytes())
	// rr prefixes its fatal errors with the source location that raised
	// them, which says nothing to a user.
	if strings.HasPrefix(why, "[") {
		if i := strings.Index(why, "] "); i > 0 {
			why = why[i+2:]
		}
	}
	if why == "" {
		why = err.Error()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = fmt.Sprintf("no answer in %v", rrProbeTimeout)
	}
	// rr stops at its first problem; a too high paranoid level is a
	// second one the user would meet next (and the one dlv reports).
	if b, err := os.ReadFile(perfParanoidPath); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 1 {
			why += fmt.Sprintf("; %s is %d, rr needs 1 or less", perfParanoidPath, n)
		}
	}
	return fmt.Sprintf("%s at %s cannot record on this machine either: rr record %s: %s", ver, rr, victim, why)
}

// firstLine is the first non-blank line of out, trimmed.
func firstLine(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
