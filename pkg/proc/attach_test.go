package proc_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
)

// startSleeper runs the sleeper fixture untraced and returns its pid.
func startSleeper(t *testing.T) (string, *exec.Cmd) {
	t.Helper()
	testenv.RequirePtrace(t)
	path := fixture.Build(t, "sleeper", fixture.Flavour{})
	cmd := exec.Command(path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("sleeper printed %q (%v), want its pid %d", line, err, cmd.Process.Pid)
	}
	return path, cmd
}

// readMem reads another process's memory through /proc/PID/mem, without ptrace.
func readMem(t *testing.T, pid int, addr uint64, n int) []byte {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, int64(addr)); err != nil {
		t.Fatalf("reading %d bytes at %#x of pid %d: %v", n, addr, pid, err)
	}
	return buf
}

func TestDetachRestoresText(t *testing.T) {
	path, cmd := startSleeper(t)
	pid := cmd.Process.Pid
	tg, err := proc.Attach(native.Backend{}, pid)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	bp := mustBreakFunc(t, tg, "main.tick")
	if _, err := tg.SetBreakpointLine("sleeper/main.go", 21); err != nil {
		t.Fatal(err)
	}
	mustBreakFunc(t, tg, "main.main")
	st, err := tg.Continue()
	if err != nil {
		t.Fatal(err)
	}
	if st.Reason != proc.StopBreakpoint || (st.Line != 11 && st.Line != 21) {
		t.Fatalf("continue: %v", st)
	}
	if st.Line == 21 {
		st, err = tg.Continue()
		want(t, "continue", st, err, proc.StopBreakpoint, "main.tick", 11)
	}
	if st.Breakpoint != bp {
		t.Fatalf("stopped on %v, want breakpoint %d", st.Breakpoint, bp.ID)
	}
	// Detach with the thread rewound onto a breakpoint and three breakpoints
	// (one address each) in the text.
	for _, b := range tg.Breakpoints() {
		if got := readMem(t, pid, b.Addrs[0], 1); got[0] != 0xCC {
			t.Fatalf("breakpoint %d: byte at %#x is %#x before detach, want int3", b.ID, b.Addrs[0], got[0])
		}
	}
	if err := tg.Detach(); err != nil {
		t.Fatalf("detach: %v", err)
	}

	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	text := ef.Section(".text")
	want, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	got := readMem(t, pid, text.Addr, len(want))
	if !bytes.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf(".text differs from the file at %#x: %#x, want %#x", text.Addr+uint64(i), got[i], want[i])
			}
		}
	}

	// The program runs on: main.ticks keeps growing.
	var ticksAddr uint64
	syms, _ := ef.Symbols()
	for _, s := range syms {
		if s.Name == "main.ticks" {
			ticksAddr = s.Value
		}
	}
	if ticksAddr == 0 {
		t.Fatal("no main.ticks symbol")
	}
	before := binary.LittleEndian.Uint64(readMem(t, pid, ticksAddr, 8))
	time.Sleep(350 * time.Millisecond)
	after := binary.LittleEndian.Uint64(readMem(t, pid, ticksAddr, 8))
	if after < before+2 {
		t.Fatalf("main.ticks went from %d to %d in 350ms after detach", before, after)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); f[0] != "S" && f[0] != "R" {
		t.Fatalf("process state after detach: %s", f[0])
	}
}

// TestHaltAndThreads: Halt from another goroutine interrupts Continue; the
// threads can then be listed and switched between.
func TestHaltAndThreads(t *testing.T) {
	tg := launch(t, "sleeper", fixture.Flavour{PIE: true})
	go func() {
		time.Sleep(300 * time.Millisecond)
		tg.Halt()
	}()
	st, err := tg.Continue()
	if err != nil {
		t.Fatal(err)
	}
	if st.Reason != proc.StopHalted {
		t.Fatalf("continue: got %v, want halted", st)
	}
	ths, err := tg.Threads()
	if err != nil {
		t.Fatal(err)
	}
	if len(ths) < 2 {
		t.Fatalf("%d threads, want the Go runtime's several", len(ths))
	}
	for _, th := range ths {
		if th.Regs.PC() == 0 || th.Regs.SP() == 0 {
			t.Fatalf("thread %d: registers %+v", th.ID, th.Regs)
		}
		if err := tg.SwitchThread(th.ID); err != nil {
			t.Fatal(err)
		}
		if tg.SelectedThread() != th.ID || tg.SelectedGoroutine() != th.GoroutineID {
			t.Fatalf("switch to thread %d: selected %d goroutine %d, want goroutine %d",
				th.ID, tg.SelectedThread(), tg.SelectedGoroutine(), th.GoroutineID)
		}
	}
	if err := tg.SwitchThread(-1); err == nil {
		t.Fatal("switch to thread -1 succeeded")
	}
	bp := mustBreakFunc(t, tg, "main.tick")
	st, err = tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.tick", 11)
	if st.GoroutineID != 1 || st.Breakpoint != bp {
		t.Fatalf("hit %v on goroutine %d", st.Breakpoint, st.GoroutineID)
	}
	if err := tg.SwitchGoroutine(1); err != nil || tg.SelectedThread() != st.ThreadID {
		t.Fatalf("switch goroutine 1: %v, thread %d want %d", err, tg.SelectedThread(), st.ThreadID)
	}
	// The breakpoint is on the func line (prologue_end); next reaches line
	// 12, one instruction (INCQ main.ticks, 7 bytes): stepping it reaches
	// line 13; next then returns to the loop.
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.tick", 12)
	pc := st.PC
	st, err = tg.StepInstruction()
	want(t, "step instruction", st, err, proc.StopStepDone, "main.tick", 13)
	if st.PC != pc+7 {
		t.Fatalf("step instruction from %#x went to %#x, want %#x", pc, st.PC, pc+7)
	}
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.main", 20)
}
