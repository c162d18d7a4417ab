package ebpf

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Capability numbers from <linux/capability.h>.
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

// ErrPermission is wrapped by CheckPermissions when the tracer lacks the
// capabilities that loading a tracing program and attaching uprobes need.
var ErrPermission = errors.New("no permission for eBPF tracing")

// CheckPermissions reports, before anything is started, whether this
// process may load the tracing program and attach uprobes: that takes
// CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN on kernels older than 5.8,
// which do not know the first two. The error names what is missing, since
// the kernel's own answer is a bare EPERM from whichever call came first.
func CheckPermissions() error {
	eff, err := effectiveCaps()
	if err != nil {
		return fmt.Errorf("reading capabilities: %w", err)
	}
	has := func(c uint) bool { return eff&(1<<c) != 0 }
	if has(capSysAdmin) {
		return nil
	}
	if !kernelKnowsCapBPF() {
		return fmt.Errorf("%w: missing CAP_SYS_ADMIN (this kernel predates CAP_BPF); run as root", ErrPermission)
	}
	var missing []string
	if !has(capBPF) {
		missing = append(missing, "CAP_BPF")
	}
	if !has(capPerfmon) {
		missing = append(missing, "CAP_PERFMON")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: missing %s (or CAP_SYS_ADMIN); run as root or grant them with setcap cap_bpf,cap_perfmon+ep",
		ErrPermission, strings.Join(missing, " and "))
}

// effectiveCaps returns the effective capability set of this thread; Go
// programs keep the same set on every thread.
func effectiveCaps() (uint64, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, err
	}
	return uint64(data[0].Effective) | uint64(data[1].Effective)<<32, nil
}

// kernelKnowsCapBPF reports whether the kernel has CAP_BPF (Linux 5.8+).
func kernelKnowsCapBPF() bool {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return true // the modern answer; the kernel will say EPERM otherwise
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err != nil || last >= capBPF
}
