package testenv

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// InPidNamespace reports whether this test binary was started by
// RunInPidNamespace.
func InPidNamespace() bool { return os.Getenv("TINYDBG_TEST_PIDNS") == "1" }

// RunInPidNamespace runs the named tests of this test binary again, as
// tinydbg would run in a container: in a new pid namespace with its own
// /proc (unshare(1), from util-linux). The named tests must pass there.
// Called from a test that is itself running in the namespace, it does
// nothing, so a test may run its own body and then itself in a namespace.
func RunInPidNamespace(t *testing.T, tests ...string) {
	t.Helper()
	if InPidNamespace() {
		return
	}
	RequireRoot(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		SkipOrFail(t, "unshare(1) is needed to make a pid namespace: %v", err)
		return
	}
	for i, name := range tests {
		tests[i] = regexp.QuoteMeta(name)
	}
	run := "^(" + strings.Join(tests, "|") + ")$"
	cmd := exec.Command(unshare, "--pid", "--fork", "--mount-proc", os.Args[0], "-test.run="+run, "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "TINYDBG_TEST_PIDNS=1")
	out, err := cmd.CombinedOutput()
	passes := strings.Count(string(out), "--- PASS: ")
	if err != nil || passes < len(tests) {
		t.Fatalf("in a new pid namespace (%s): %v, %d of %d passed\n%s", run, err, passes, len(tests), out)
	}
}
