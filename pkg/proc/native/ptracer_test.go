package native

import (
	"errors"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"golang.org/x/sys/unix"
)

// A panic in work handed to the ptrace thread comes back as an error of
// one line, and the thread goes on serving the same tracee.
func TestPanicOnPtraceThread(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	exe := fixture.Build(t, "basic", fixture.Flavour{})
	p := launch(t, LaunchConfig{Path: exe})
	entry, err := p.AuxvEntry()
	if err != nil {
		t.Fatal(err)
	}

	err = p.Exclusive(func() { panic("injected fault") })
	if !errors.Is(err, ErrPanicked) || err.Error() != "panic on the ptrace thread: injected fault" {
		t.Fatalf("Exclusive of a panicking f: got %v, want the recovered panic", err)
	}

	// A request made from inside Exclusive runs directly; its panic is the
	// error of that request, and the enclosing work goes on.
	var inner error
	after := false
	err = p.Exclusive(func() {
		inner = p.do(func() error { panic(errors.New("inner fault")) })
		after = true
	})
	if err != nil || !after || !errors.Is(inner, ErrPanicked) || !strings.HasSuffix(inner.Error(), ": inner fault") {
		t.Fatalf("nested panic: outer %v, went on %v, inner %v", err, after, inner)
	}

	// The tracee is still ours: a breakpoint at the entry point is hit.
	insertInt3(t, p, entry)
	continueTo(t, p, proc.StopKindTrap)
	if got := pc(t, p.Threads()[0]); got != entry+1 {
		t.Fatalf("pc after the entry breakpoint: %#x, want %#x", got, entry+1)
	}
}

// A panic while starting leaves no ptrace goroutine behind.
func TestPanicWhileStartingEndsThread(t *testing.T) {
	checkNoLeak(t)
	pt := newPtracer()
	ran, err := pt.run(func() bool { panic("start fault") })
	if !ran || !errors.Is(err, ErrPanicked) {
		t.Fatalf("run: ran %v, err %v", ran, err)
	}
	if got := pt.endAfterPanic(err); got != err {
		t.Fatalf("endAfterPanic: %v, want %v", got, err)
	}
	<-pt.done
	if ran, err := pt.run(func() bool { return false }); ran || err != nil {
		t.Fatalf("run after the end: ran %v, err %v", ran, err)
	}
}

// A probe handler that panics ends RunProbes as a failing handler does:
// with the panic as the error and every thread stopped, none left between
// a probe's int3 and its instruction.
func TestProbeHandlerPanic(t *testing.T) {
	testenv.RequirePtrace(t)
	exe := fixture.Build(t, "probeforms", fixture.Flavour{Optimized: true})
	addrs := hammerProbes(t, exe)
	p := launch(t, LaunchConfig{Path: exe, Args: []string{"hammer", "100000000"}, Stdout: testproc.DevNull(t)})
	hits := 0
	ev, err := p.RunProbes(probesAt(t, p, exe, addrs...), func(h *ProbeHit) error {
		if hits++; hits == 10 {
			panic("handler fault")
		}
		return nil
	})
	if !errors.Is(err, ErrPanicked) || !strings.HasSuffix(err.Error(), ": panic on the ptrace thread: handler fault") || ev.Kind != proc.StopKindHalt || hits != 10 {
		t.Fatalf("RunProbes = %+v, %v after %d hits; want the panic, a halt and 10 hits", ev, err, hits)
	}
	for _, th := range p.Threads() {
		regs, err := th.Registers() // fails with ErrThreadRunning unless stopped
		if err != nil {
			t.Fatalf("thread %d: %v", th.ID(), err)
		}
		for _, a := range addrs {
			if regs.Rip == a+1 {
				t.Errorf("thread %d left just past the int3 at %#x", th.ID(), a)
			}
		}
	}
	if err := unix.Kill(p.Pid(), 0); err != nil {
		t.Errorf("process gone after the run: %v", err)
	}
}
