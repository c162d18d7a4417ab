package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// BPFLinks counts the calling process's open BPF links: the uprobes a
// debugger running in it has attached, which must all be gone once it
// lets its target go.
func BPFLinks(t testing.TB) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && l == "anon_inode:bpf_link" {
			n++
		}
	}
	return n
}
