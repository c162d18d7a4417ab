package proc_test

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
)

func init() { proc.TestBackend = native.Backend{} }

// recordingBackend is the native backend with a log of what the core
// asked of it, and a launch that can be made to fail.
type recordingBackend struct {
	native.Backend
	calls []string
	fail  error
}

func (b *recordingBackend) Launch(path string, args []string, cfg proc.LaunchConfig) (proc.Process, error) {
	b.calls = append(b.calls, "launch "+strings.Join(args, " "))
	if b.fail != nil {
		return nil, b.fail
	}
	return b.Backend.Launch(path, args, cfg)
}

// TestBackendChosenByCaller checks that the core starts the program
// through the backend it is given, a Restart through the same one, and
// that a backend's failure reaches the caller wrapped.
func TestBackendChosenByCaller(t *testing.T) {
	testenv.RequirePtrace(t)
	path := fixture.Build(t, "basic", fixture.Flavour{})
	b := &recordingBackend{}
	tg, err := proc.Launch(b, path, []string{"one"}, proc.LaunchConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tg.Kill() })
	mustBreakFunc(t, tg, "main.add")
	if err := tg.Restart(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	st, err := tg.Continue()
	want(t, "continue after restart", st, err, proc.StopBreakpoint, "main.add", 13)
	if !slices.Equal(b.calls, []string{"launch one", "launch one"}) {
		t.Fatalf("backend calls %q, want two launches with the same arguments", b.calls)
	}

	b.fail = errors.New("no backend today")
	_, err = proc.Launch(b, path, nil, proc.LaunchConfig{})
	if !errors.Is(err, b.fail) || err.Error() != "launching "+path+": no backend today" {
		t.Fatalf("failed launch: %v", err)
	}
}

// TestCoreKnowsNoBackend checks the layering the Backend interface is
// for: the core and the trace event import no backend, and the eBPF
// engine does not import the ptrace one.
func TestCoreKnowsNoBackend(t *testing.T) {
	const mod = "github.com/tinydbg/tinydbg/pkg/proc"
	for pkg, banned := range map[string][]string{
		mod:            {mod + "/native", mod + "/ebpf", mod + "/nonstop"},
		mod + "/event": {mod + "/native", mod + "/ebpf", mod + "/nonstop", mod},
		mod + "/ebpf":  {mod + "/native", mod + "/nonstop", mod},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, pkg) {
			t.Fatalf("go list -deps %s does not list the package itself:\n%s", pkg, out)
		}
		for _, b := range banned {
			if slices.Contains(deps, b) {
				t.Errorf("%s depends on %s", pkg, b)
			}
		}
	}
}
