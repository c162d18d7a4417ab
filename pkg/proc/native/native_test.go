package native

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"golang.org/x/arch/x86/x86asm"
)

// symbol returns the link-time address of a symbol of the executable.
func symbol(t *testing.T, exe, name string) uint64 {
	t.Helper()
	return testproc.Symbol(t, exe, name).Value
}

// textBytes returns n bytes of the file's .text section at link address addr.
func textBytes(t *testing.T, exe string, addr uint64, n int) []byte {
	t.Helper()
	text, start := testproc.Text(t, exe)
	off := addr - start
	return text[off : off+uint64(n)]
}

// elfEntry returns the entry point recorded in the ELF header and the
// address of the first loadable segment.
func elfEntry(t *testing.T, exe string) (entry, firstLoad uint64) {
	t.Helper()
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_LOAD {
			return f.Entry, prog.Vaddr
		}
	}
	t.Fatalf("%s has no PT_LOAD", exe)
	return 0, 0
}

// checkNoLeak fails the test if goroutines started by it outlive it; the
// ptrace goroutine must end with its process.
func checkNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

// launch starts a fixture under the debugger and kills it at the end.
func launch(t *testing.T, cfg LaunchConfig) *Process {
	t.Helper()
	p, err := Launch(cfg)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Kill(); err != nil && !errors.Is(err, ErrDetached) {
			t.Errorf("Kill: %v", err)
		}
	})
	return p
}

// pipe returns a pipe whose write end is closed at the end of the test.
func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// insertInt3 writes an int3 at addr and returns the byte it replaced.
func insertInt3(t *testing.T, p *Process, addr uint64) []byte {
	t.Helper()
	orig := make([]byte, 1)
	if _, err := p.ReadMemory(orig, addr); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WriteMemory(addr, []byte{0xCC}); err != nil {
		t.Fatal(err)
	}
	return orig
}

func continueTo(t *testing.T, p *Process, want proc.StopKind) StopEvent {
	t.Helper()
	ev, err := p.Continue()
	if err != nil {
		t.Fatalf("Continue: %v", err)
	}
	if ev.Kind != want {
		t.Fatalf("Continue stopped with %v (%+v), want %v", ev.Kind, ev, want)
	}
	return ev
}

func pc(t *testing.T, th *Thread) uint64 {
	t.Helper()
	regs, err := th.Registers()
	if err != nil {
		t.Fatalf("Registers of %d: %v", th.ID(), err)
	}
	return regs.PC()
}

func TestLaunchBreakpointStepExit(t *testing.T) {
	testenv.RequirePtrace(t)
	for _, fl := range []fixture.Flavour{{}, {PIE: true}} {
		t.Run(fl.Name(), func(t *testing.T) {
			checkNoLeak(t)
			exe := fixture.Build(t, "basic", fl)
			r, w := pipe(t)
			p := launch(t, LaunchConfig{Path: exe, Args: []string{"a", "b"}, Stdout: w, DisableASLR: true})
			w.Close()

			if th := p.Threads(); len(th) != 1 || th[0].ID() != p.Pid() {
				t.Fatalf("threads at launch: %v, want only %d", th, p.Pid())
			}
			entry, err := p.AuxvEntry()
			if err != nil {
				t.Fatal(err)
			}
			elfEntryAddr, firstLoad := elfEntry(t, exe)
			bias := entry - elfEntryAddr
			wantBias := uint64(0)
			if fl.PIE {
				// Without randomization the kernel puts a PIE's first
				// segment at ELF_ET_DYN_BASE, 2/3 of the 47-bit space.
				wantBias = 0x555555554000 - firstLoad&^0xfff
			}
			if bias != wantBias {
				t.Fatalf("load bias %#x, want %#x", bias, wantBias)
			}

			link := symbol(t, exe, "main.main")
			addr := link + bias
			want := textBytes(t, exe, link, 16)
			got := make([]byte, 16)
			if n, err := p.ReadMemory(got, addr); err != nil || n != 16 {
				t.Fatalf("ReadMemory = %d, %v", n, err)
			}
			if string(got) != string(want) {
				t.Fatalf("memory at main.main % x, file has % x", got, want)
			}
			if n, err := p.WriteMemory(addr, []byte{0xCC}); err != nil || n != 1 {
				t.Fatalf("WriteMemory = %d, %v", n, err)
			}

			ev := continueTo(t, p, proc.StopKindTrap)
			if len(ev.Trapped) != 1 {
				t.Fatalf("trapped %d threads, want 1", len(ev.Trapped))
			}
			th := ev.Trapped[0]
			if got := pc(t, th); got != addr+1 {
				t.Fatalf("pc after int3 %#x, want main.main+1 = %#x", got, addr+1)
			}
			if _, err := p.WriteMemory(addr, want[:1]); err != nil {
				t.Fatal(err)
			}
			if err := th.SetPC(addr); err != nil {
				t.Fatal(err)
			}
			inst, err := x86asm.Decode(want, 64)
			if err != nil {
				t.Fatal(err)
			}
			if err := th.StepInstruction(); err != nil {
				t.Fatalf("StepInstruction: %v", err)
			}
			if got := pc(t, th); got != addr+uint64(inst.Len) {
				t.Fatalf("pc after step %#x, want %#x (%v is %d bytes)", got, addr+uint64(inst.Len), inst, inst.Len)
			}

			ev = continueTo(t, p, proc.StopKindExited)
			if ev.ExitCode != 0 {
				t.Fatalf("exit code %d", ev.ExitCode)
			}
			if !p.Exited() {
				t.Fatal("Exited() = false after proc.StopKindExited")
			}
			out, _ := bufioReadAll(r)
			if out != "pt(6,8) 7 14\nargs: [a b]\n" {
				t.Fatalf("program output %q", out)
			}
			if _, err := p.Continue(); !errors.Is(err, proc.ErrProcessExited) {
				t.Fatalf("Continue after exit: %v, want proc.ErrProcessExited", err)
			}
		})
	}
}

func bufioReadAll(r *os.File) (string, error) {
	var sb strings.Builder
	_, err := bufio.NewReader(r).WriteTo(&sb)
	return sb.String(), err
}

func TestLaunchDirEnvShell(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	r, w := pipe(t)
	dir := t.TempDir()
	p := launch(t, LaunchConfig{Path: "sh", Args: []string{"-c", `pwd; echo "$TINY"; exit 5`},
		Dir: dir, Env: []string{"TINY=val ue"}, Stdout: w})
	w.Close()
	ev := continueTo(t, p, proc.StopKindExited)
	if ev.ExitCode != 5 {
		t.Fatalf("exit code %d, want 5", ev.ExitCode)
	}
	out, _ := bufioReadAll(r)
	if out != dir+"\nval ue\n" {
		t.Fatalf("output %q, want %q", out, dir+"\nval ue\n")
	}
}

func TestLaunchErrors(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	_, err := Launch(LaunchConfig{Path: "/nonexistent/prog"})
	if err == nil || err.Error() != "launch /nonexistent/prog: no such file or directory" {
		t.Fatalf("Launch of a missing file: %v", err)
	}
}

func TestExitCode(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	exe := fixture.Build(t, "exitcode", fixture.Flavour{})
	p := launch(t, LaunchConfig{Path: exe, Args: []string{"3"}})
	if ev := continueTo(t, p, proc.StopKindExited); ev.ExitCode != 3 {
		t.Fatalf("exit code %d, want 3", ev.ExitCode)
	}
}

// waitSignalFixture launches exitcode in wait-signal mode and sends sig once
// it prints "waiting"; it returns the Continue result and the output.
func waitSignalFixture(t *testing.T, sig os.Signal) (StopEvent, string) {
	exe := fixture.Build(t, "exitcode", fixture.Flavour{})
	r, w := pipe(t)
	p := launch(t, LaunchConfig{Path: exe, Args: []string{"0", "wait-signal"}, Stdout: w})
	w.Close()
	lines := make(chan string, 4)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if sc.Text() == "waiting" {
				proc, _ := os.FindProcess(p.Pid())
				if err := proc.Signal(sig); err != nil {
					t.Errorf("signal: %v", err)
				}
			}
			lines <- sc.Text()
		}
	}()
	ev, err := p.Continue()
	if err != nil {
		t.Fatalf("Continue: %v", err)
	}
	var out []string
	for l := range lines {
		out = append(out, l)
	}
	return ev, strings.Join(out, "\n")
}

func TestSignalIsDelivered(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	ev, out := waitSignalFixture(t, syscall.SIGUSR1)
	if ev.Kind != proc.StopKindExited || ev.ExitCode != 0 {
		t.Fatalf("stop %+v, want exit 0", ev)
	}
	if out != "waiting\ngot SIGUSR1" {
		t.Fatalf("output %q", out)
	}
}

func TestUnhandledSignalKills(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	ev, out := waitSignalFixture(t, syscall.SIGTERM)
	if ev.Kind != proc.StopKindKilled || ev.Signal != 15 {
		t.Fatalf("stop %+v, want killed by signal 15", ev)
	}
	if out != "waiting" {
		t.Fatalf("output %q", out)
	}
}

// TestStepIntoExit steps through runtime.exit until the exit_group syscall
// ends the process, which StepInstruction reports as a typed error.
func TestStepIntoExit(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	exe := fixture.Build(t, "exitcode", fixture.Flavour{})
	p := launch(t, LaunchConfig{Path: exe, Args: []string{"3"}})
	addr := symbol(t, exe, "runtime.exit.abi0")
	orig := insertInt3(t, p, addr)
	ev := continueTo(t, p, proc.StopKindTrap)
	th := ev.Trapped[0]
	if _, err := p.WriteMemory(addr, orig); err != nil {
		t.Fatal(err)
	}
	if err := th.SetPC(addr); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		err := th.StepInstruction()
		if err == nil {
			continue
		}
		var pe *proc.ProcessExitedError
		if !errors.As(err, &pe) || pe.ExitCode != 3 || pe.Signal != 0 || pe.Pid != p.Pid() {
			t.Fatalf("step %d: %v, want *proc.ProcessExitedError with code 3", i, err)
		}
		if !errors.Is(err, proc.ErrProcessExited) || !p.Exited() {
			t.Fatal("process not marked exited")
		}
		return
	}
	t.Fatal("process did not exit within 20 instructions of runtime.exit")
}

func TestGoroutinesBreakpoint(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	exe := fixture.Build(t, "goroutines", fixture.Flavour{})
	r, w := pipe(t)
	p := launch(t, LaunchConfig{Path: exe, Stdout: w})
	w.Close()
	addr := symbol(t, exe, "main.work")
	orig := insertInt3(t, p, addr)
	hits, stops, maxThreads := 0, 0, 0
	start := time.Now()
	for {
		ev, err := p.Continue()
		if err != nil {
			t.Fatalf("Continue: %v", err)
		}
		if ev.Kind == proc.StopKindExited {
			if ev.ExitCode != 0 {
				t.Fatalf("exit code %d", ev.ExitCode)
			}
			break
		}
		if ev.Kind != proc.StopKindTrap || len(ev.Trapped) == 0 {
			t.Fatalf("unexpected stop %+v", ev)
		}
		stops++
		maxThreads = max(maxThreads, len(p.Threads()))
		if _, err := p.WriteMemory(addr, orig); err != nil {
			t.Fatal(err)
		}
		for _, th := range ev.Trapped {
			if got := pc(t, th); got != addr+1 {
				t.Fatalf("thread %d trapped at %#x, not at main.work+1 (%#x)", th.ID(), got, addr+1)
			}
			hits++
			if err := th.SetPC(addr); err != nil {
				t.Fatal(err)
			}
			if err := th.StepInstruction(); err != nil {
				t.Fatalf("step thread %d: %v", th.ID(), err)
			}
			if got := pc(t, th); got <= addr || got > addr+15 {
				t.Fatalf("thread %d at %#x after one step from %#x", th.ID(), got, addr)
			}
		}
		if _, err := p.WriteMemory(addr, []byte{0xCC}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d hits in %d stops, up to %d threads, %v (%v per stop)", hits, stops, maxThreads,
		time.Since(start), time.Since(start)/time.Duration(max(stops, 1)))
	if hits != 400 {
		t.Fatalf("main.work hit %d times, want 400", hits)
	}
	if maxThreads < 2 {
		t.Fatalf("at most %d threads seen; clone events not tracked", maxThreads)
	}
	out, _ := bufioReadAll(r)
	want := "[" + strings.TrimSpace(strings.Repeat("", 0))
	for i := 0; i < 8; i++ {
		want += fmt.Sprint(50*(i*10+3)) + " "
	}
	want = strings.TrimSuffix(want, " ") + "]\n"
	if out != want {
		t.Fatalf("output %q, want %q", out, want)
	}
}

// TestSignalDuringStepIsKept sends SIGTERM to a thread stopped at a
// breakpoint: the step must still execute exactly one instruction, and the
// signal must reach the program on the next Continue.
func TestSignalDuringStepIsKept(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	exe := fixture.Build(t, "basic", fixture.Flavour{})
	_, w := pipe(t)
	p := launch(t, LaunchConfig{Path: exe, Stdout: w})
	addr := symbol(t, exe, "main.main")
	orig := textBytes(t, exe, addr, 16)
	if _, err := p.WriteMemory(addr, []byte{0xCC}); err != nil {
		t.Fatal(err)
	}
	th := continueTo(t, p, proc.StopKindTrap).Trapped[0]
	if _, err := p.WriteMemory(addr, orig[:1]); err != nil {
		t.Fatal(err)
	}
	if err := th.SetPC(addr); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Tgkill(p.Pid(), th.ID(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := th.StepInstruction(); err != nil {
		t.Fatalf("StepInstruction: %v", err)
	}
	inst, err := x86asm.Decode(orig, 64)
	if err != nil {
		t.Fatal(err)
	}
	if got := pc(t, th); got != addr+uint64(inst.Len) {
		t.Fatalf("pc after step %#x, want %#x", got, addr+uint64(inst.Len))
	}
	if ev := continueTo(t, p, proc.StopKindKilled); ev.Signal != int(syscall.SIGTERM) {
		t.Fatalf("killed by signal %d, want SIGTERM", ev.Signal)
	}
}

// TestDetachPassesPendingSignal checks that a signal the debugger held back
// during a step reaches the program when the debugger detaches. In the
// goroutines case the signal belongs to a worker thread, so the program dies
// while later threads are still being detached.
func TestDetachPassesPendingSignal(t *testing.T) {
	testenv.RequirePtrace(t)
	for _, tc := range []struct{ fixture, fn string }{{"basic", "main.main"}, {"goroutines", "main.work"}} {
		t.Run(tc.fixture, func(t *testing.T) {
			checkNoLeak(t)
			exe := fixture.Build(t, tc.fixture, fixture.Flavour{})
			_, w := pipe(t)
			p, err := Launch(LaunchConfig{Path: exe, Stdout: w})
			if err != nil {
				t.Fatal(err)
			}
			addr := symbol(t, exe, tc.fn)
			orig := textBytes(t, exe, addr, 1)
			if _, err := p.WriteMemory(addr, []byte{0xCC}); err != nil {
				t.Fatal(err)
			}
			ev := continueTo(t, p, proc.StopKindTrap)
			p.WriteMemory(addr, orig)
			for _, other := range ev.Trapped {
				if err := other.SetPC(addr); err != nil {
					t.Fatal(err)
				}
			}
			th := ev.Trapped[0]
			if err := syscall.Tgkill(p.Pid(), th.ID(), syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := th.StepInstruction(); err != nil {
				t.Fatalf("StepInstruction: %v", err)
			}
			if err := p.Detach(); err != nil {
				t.Fatalf("Detach: %v", err)
			}
			// The ptrace thread that forked the program is gone or idle, so
			// the process is now an ordinary child of this test process.
			var ws syscall.WaitStatus
			_, err = syscall.Wait4(p.Pid(), &ws, 0, nil)
			if err == syscall.ECHILD {
				// The forking thread has exited and the kernel reparented the
				// program to another thread of this test process, whose
				// wait may have collected it first: then the status is
				// gone, but the program must be gone too.
				for i := 0; ; i++ {
					if _, err := os.Stat(fmt.Sprintf("/proc/%d", p.Pid())); err != nil {
						t.Logf("exit status collected by another thread; the program is gone")
						return
					}
					if i == 500 {
						t.Fatalf("program %d still exists after Detach passed SIGTERM on", p.Pid())
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
				t.Fatalf("program ended with status %#x, want killed by SIGTERM", uint32(ws))
			}
		})
	}
}

// TestTwoProcessesConcurrently runs two traced programs at once from two
// goroutines: each Process must see only its own events.
func TestTwoProcessesConcurrently(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	exe := fixture.Build(t, "exitcode", fixture.Flavour{})
	codes := []int{4, 7}
	errs := make(chan error, len(codes))
	for _, code := range codes {
		p := launch(t, LaunchConfig{Path: exe, Args: []string{fmt.Sprint(code)}})
		go func() {
			ev, err := p.Continue()
			if err == nil && (ev.Kind != proc.StopKindExited || ev.ExitCode != code) {
				err = fmt.Errorf("process %d: stop %+v, want exit %d", p.Pid(), ev, code)
			}
			errs <- err
		}()
	}
	for range codes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestPartialMemoryAccess reads and writes across the end of a mapping: the
// accessible part is transferred and counted, and an error says why the rest
// was not.
func TestPartialMemoryAccess(t *testing.T) {
	testenv.RequirePtrace(t)
	checkNoLeak(t)
	exe := fixture.Build(t, "basic", fixture.Flavour{})
	p := launch(t, LaunchConfig{Path: exe})
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	// Find a writable mapping followed by a hole.
	var end uint64
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := 0; i+1 < len(lines); i++ {
		var s1, e1, s2, e2 uint64
		var perm string
		fmt.Sscanf(lines[i], "%x-%x %s", &s1, &e1, &perm)
		fmt.Sscanf(lines[i+1], "%x-%x", &s2, &e2)
		if e1 != s2 && strings.HasPrefix(perm, "rw") {
			end = e1
			break
		}
	}
	if end == 0 {
		t.Fatalf("no writable mapping followed by a hole in\n%s", b)
	}
	buf := make([]byte, 16)
	n, err := p.ReadMemory(buf, end-8)
	if n != 8 || err == nil {
		t.Fatalf("ReadMemory across %#x = %d, %v; want 8 and an error", end, n, err)
	}
	n, err = p.ReadMemory(buf, end)
	if n != 0 || !errors.Is(err, syscall.EFAULT) {
		t.Fatalf("ReadMemory of unmapped %#x = %d, %v; want 0, EFAULT", end, n, err)
	}
	data := []byte("0123456789abcdef")
	n, err = p.WriteMemory(end-8, data)
	if n != 8 || err == nil {
		t.Fatalf("WriteMemory across %#x = %d, %v; want 8 and an error", end, n, err)
	}
	if n, err := p.ReadMemory(buf[:8], end-8); n != 8 || err != nil || string(buf[:8]) != "01234567" {
		t.Fatalf("read back %q (%d, %v)", buf[:8], n, err)
	}
}
