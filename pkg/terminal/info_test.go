package terminal_test

import (
	"testing"
)

// basicPackages is what Delve 1.27.2 prints for `packages` on the basic
// fixture built by go1.26 (the runtime's package set is the toolchain's).
const basicPackages = `fmt
internal/abi
internal/bisect
internal/bytealg
internal/byteorder
internal/chacha8rand
internal/cpu
internal/fmtsort
internal/godebug
internal/godebugs
internal/reflectlite
internal/runtime/atomic
internal/runtime/cgroup
internal/runtime/exithook
internal/runtime/gc/scan
internal/runtime/maps
internal/runtime/sys
internal/runtime/syscall/linux
internal/strconv
internal/stringslite
internal/sync
internal/syscall/unix
main
math/bits
os
reflect
runtime
sync
sync/atomic
syscall
time
unicode/utf8
`

// TestPackages lists the Go packages of the basic fixture sorted, one a
// line, filtered by a regexp and then all of them, as Delve does.
func TestPackages(t *testing.T) {
	out, errOut := runREPL(t, "basic", "packages ^(main|os|sync/atomic)$\npackages\npackages (\nexit\n")
	if want := "main\nos\nsync/atomic\n" + basicPackages; out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if want := "Command failed: invalid Filter pattern: error parsing regexp: missing closing ): `(`\n"; errOut != want {
		t.Errorf("stderr: %q, want %q", errOut, want)
	}
}
