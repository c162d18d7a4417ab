package ebpf

import (
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/eval"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
)

// startTraced starts path stopped at its exec under ptrace, as a debugger
// holds it, and returns the function that lets it run (detaching).
func startTraced(t *testing.T, path string, env ...string) (*exec.Cmd, func()) {
	t.Helper()
	// ptrace requests must come from the thread that started the child.
	runtime.LockOSThread()
	cmd := exec.Command(path)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(cmd.Process.Pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		runtime.UnlockOSThread()
		t.Fatalf("child did not stop at exec: %v %v", err, ws)
	}
	return cmd, func() {
		defer runtime.UnlockOSThread()
		if err := syscall.PtraceDetach(cmd.Process.Pid); err != nil {
			t.Fatalf("detaching: %v", err)
		}
	}
}

// TestSitesLostCounted probes main.hot of hotloop, 4 goroutines × n
// calls, with a ring buffer far too small and a reader that does not read
// until the program has ended: every hit is either delivered, with its
// argument, or counted lost, and some are lost.
func TestSitesLostCounted(t *testing.T) {
	requireBPF(t)
	const n = 20000
	path := fixture.Build(t, "hotloop", fixture.Flavour{Optimized: true})
	bi, err := bininfo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	fn := lookupFuncs(t, bi, "main.hot")[0]
	sites, err := probe.FindSites(bi, fn)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := eval.NewProgram(bi)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := prog.VarAt(sites.Entry, "i")
	if err != nil {
		t.Fatal(err)
	}
	loc, err := probe.LocationOfExpr(cv.Expr, cv.Type.Size())
	if err != nil {
		t.Fatal(err)
	}
	cmd, run := startTraced(t, path, "HOTLOOP_N="+strconv.Itoa(n))
	st, err := OpenSites(bi, cmd.Process.Pid, []Site{{Addr: sites.Entry, Vars: []SiteVar{{Name: "i", Type: cv.Type, Loc: loc, Cfg: value.DefaultLoadConfig}}}},
		Options{RingBufferBytes: 4096})
	if err != nil {
		cmd.Process.Kill()
		run()
		cmd.Wait()
		t.Fatal(err)
	}
	run()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("hotloop: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Close() }()
	got, bad := 0, 0
	for h := range st.Hits() {
		got++
		if v := h.Values[0].Var; h.Err != nil || v.Unreadable != nil || h.Values[0].Truncated {
			bad++
		} else if i, err := strconv.Atoi(v.Value); err != nil || i < 0 || i >= n {
			bad++
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Close: %v", err)
	}
	lost := st.Lost()
	if lost == 0 || uint64(got)+lost != 4*n || bad != 0 {
		t.Errorf("%d hits delivered (%d bad) + %d lost, want %d in all, some lost", got, bad, lost, 4*n)
	}
	if st.Probes() != 1 {
		t.Errorf("%d probes", st.Probes())
	}
}
