// Package pidns says which pid namespace tinydbg runs in, for BPF programs
// that must name a thread the way tinydbg (and ptrace, and /proc) does.
//
// bpf_get_current_pid_tgid answers in the initial namespace. In a
// container tinydbg knows its target by the container's pids, so a BPF
// program that compared the two would never match, and its events would
// never be seen. Outside the initial namespace the programs ask
// bpf_get_ns_current_pid_tgid for the ids in tinydbg's own namespace.
package pidns

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// initIno is the inode of the initial pid namespace (PROC_PID_INIT_INO),
// fixed by the kernel.
const initIno = 0xEFFFFFFC

// NS identifies a pid namespace as bpf_get_ns_current_pid_tgid wants it.
type NS struct {
	Dev uint64 // the nsfs device, in the kernel's own dev_t encoding
	Ino uint64
}

// Initial reports whether this is the initial pid namespace, where the
// cheaper bpf_get_current_pid_tgid already gives tinydbg's pids.
func (n NS) Initial() bool { return n.Ino == initIno }

// Self returns the pid namespace tinydbg runs in.
func Self() (NS, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil {
		return NS{}, fmt.Errorf("reading tinydbg's pid namespace: %w", err)
	}
	// stat encodes st_dev for user space; the helper compares against the
	// kernel's internal dev_t (major in the top 12 of 32 bits).
	dev := uint64(unix.Major(st.Dev))<<20 | uint64(unix.Minor(st.Dev))
	return NS{Dev: dev, Ino: st.Ino}, nil
}
