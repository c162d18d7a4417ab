package proc_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/internal/testproc"
	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
)

const testEnd = "test_cond_end"

// raxEq is a hand-written condition in the compiler's contract: the first
// integer argument (RAX, pt_regs offset 80) equals k.
func raxEq(k int32) asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R1, asm.R6, 80, asm.DWord),
		asm.Mov.Imm(asm.R0, 1),
		asm.JEq.Imm(asm.R1, k, testEnd),
		asm.Mov.Imm(asm.R0, 0),
		asm.Ja.Label(testEnd),
	}
}

// nilDeref reads through a nil pointer: a fault, so false and counted.
func nilDeref() asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R1, asm.R10),
		asm.Add.Imm(asm.R1, -264),
		asm.Mov.Imm(asm.R2, 8),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnProbeReadUser.Call(),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.Mov.Imm(asm.R0, 2),
		asm.JNE.Imm(asm.R1, 0, testEnd),
		asm.Mov.Imm(asm.R0, 1),
		asm.Ja.Label(testEnd),
	}
}

// fileOffset maps tg's run-time addresses to offsets in its executable.
func fileOffset(tg *proc.Target) func(uint64) (uint64, error) {
	return func(addr uint64) (uint64, error) { return probe.FileOffset(tg.BinInfo(), addr) }
}

func launchCfg(t *testing.T, name string, cfg proc.LaunchConfig, args ...string) *proc.Target {
	t.Helper()
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t) // BPF programs and uprobes
	path := fixture.Build(t, name, fixture.Flavour{})
	tg, err := proc.Launch(native.Backend{}, path, args, cfg)
	if err != nil {
		t.Fatalf("launch %s: %v", name, err)
	}
	t.Cleanup(func() { _ = tg.Kill() })
	return tg
}

func kernelBreak(t *testing.T, tg *proc.Target, fn string, cond asm.Instructions) *proc.Breakpoint {
	t.Helper()
	bp := mustBreakFunc(t, tg, fn)
	kc, err := tg.NewKernelCond(func(uint64) (asm.Instructions, error) { return cond, nil }, testEnd, fileOffset(tg))
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.SetKernelCond(bp, kc); err != nil {
		t.Fatalf("kernel condition: %v", err)
	}
	if bp.CondMode != proc.CondKernel || bp.CondModeText() != "in kernel" {
		t.Fatalf("mode %v %q", bp.CondMode, bp.CondModeText())
	}
	return bp
}

func stoppedRegs(t *testing.T, tg *proc.Target, st proc.Stop) arch.Registers {
	t.Helper()
	ths, err := tg.Threads()
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range ths {
		if th.ID == st.ThreadID {
			return th.Regs
		}
	}
	t.Fatalf("no thread %d", st.ThreadID)
	return arch.Registers{}
}

// TestKernelCondStopsLikeInt3 stops once at i == 500 through the kernel,
// with the registers an int3 stop there shows, where the ptrace path
// stops 501 times; the text never shows the uprobe's int3; the program
// runs to its normal output.
func TestKernelCondStopsLikeInt3(t *testing.T) {
	cfg := proc.LaunchConfig{DisableASLR: true}
	tg := launchCfg(t, "condloop", cfg, "1000")
	bp := kernelBreak(t, tg, "main.hot", raxEq(500))
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.hot", 23)
	kregs := stoppedRegs(t, tg, st)
	if kregs.Rax != 500 || kregs.Rip != bp.Addrs[0] || st.PC != bp.Addrs[0] {
		t.Fatalf("kernel stop: rax %d rip %#x pc %#x, want 500 at %#x", kregs.Rax, kregs.Rip, st.PC, bp.Addrs[0])
	}
	if bp.TotalHitCount != 1 || bp.HitCount[st.GoroutineID] != 1 || len(bp.HitCount) != 1 {
		t.Fatalf("counts: total %d per g %v", bp.TotalHitCount, bp.HitCount)
	}
	var b [3]byte
	fn, err := tg.Symbols().LookupFunc("main.hot")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Process().ReadMemory(b[:], fn.Entry); err != nil || b != [3]byte{0x55, 0x48, 0x89} {
		t.Fatalf("text at the probe: % x, %v; want PUSHQ BP; MOVQ SP, BP", b, err)
	}
	if st := continueToExit(t, tg); st.ExitCode != 0 || bp.TotalHitCount != 1 {
		t.Fatalf("exit %d, hits %d", st.ExitCode, bp.TotalHitCount)
	}

	// The same stop through an int3, evaluated by the debugger.
	tg2 := launchCfg(t, "condloop", cfg, "1000")
	bp2 := mustBreakFunc(t, tg2, "main.hot")
	var iregs arch.Registers
	for i := 0; ; i++ {
		st, err := tg2.Continue()
		want(t, "continue", st, err, proc.StopBreakpoint, "main.hot", 23)
		if iregs = stoppedRegs(t, tg2, st); iregs.Rax == 500 {
			break
		}
	}
	// Two runs differ in stack addresses, the M the goroutine runs on and
	// scratch registers the loop never sets (RSI and R15 hold what the
	// scheduler last left there: 0 and 1 in one run, 1 and -1 in another);
	// what the code at the site determines must be equal.
	rel := func(r arch.Registers) []uint64 {
		return []uint64{r.Rax, r.Rcx, r.Rdi, r.Rip, r.Eflags, r.Cs, r.Ss, r.OrigRax,
			r.Rbx - r.Rsp, r.Rbp - r.Rsp, r.R12 - r.Rsp, r.Rdx - r.R14}
	}
	if fmt.Sprint(rel(iregs)) != fmt.Sprint(rel(kregs)) {
		t.Fatalf("registers differ:\nint3   %+v\nkernel %+v", iregs, kregs)
	}
	if bp2.TotalHitCount != 501 {
		t.Fatalf("int3 hits %d", bp2.TotalHitCount)
	}
}

// TestKernelCondThreads: four goroutines each meet i == 500 once; every
// hit is reported as an int3 hit would be (hits at the same moment in one
// stop, each thread on the breakpoint), counted per goroutine.
func TestKernelCondThreads(t *testing.T) {
	tg := launchCfg(t, "condloop", proc.LaunchConfig{}, "20000", "4")
	bp := kernelBreak(t, tg, "main.hot", raxEq(500))
	seen := map[int64]bool{}
	for {
		st, err := tg.Continue()
		if err != nil {
			t.Fatal(err)
		}
		if st.Reason == proc.StopExited {
			break
		}
		want(t, "continue", st, err, proc.StopBreakpoint, "main.hot", 23)
		ths, err := tg.Threads()
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range ths {
			if th.Breakpoint != bp {
				continue
			}
			if th.Regs.Rax != 500 || th.Regs.Rip != bp.Addrs[0] || seen[th.GoroutineID] {
				t.Fatalf("thread %d: rax %d pc %#x goroutine %d (seen %v)", th.ID, th.Regs.Rax, th.Regs.Rip, th.GoroutineID, seen)
			}
			seen[th.GoroutineID] = true
		}
	}
	if len(seen) != 4 || bp.TotalHitCount != 4 || len(bp.HitCount) != 4 {
		t.Fatalf("goroutines %v; counts: total %d per g %v", seen, bp.TotalHitCount, bp.HitCount)
	}
	for g := range seen {
		if bp.HitCount[g] != 1 {
			t.Fatalf("goroutine %d: %d hits", g, bp.HitCount[g])
		}
	}
}

// TestKernelCondFaultAndHitCond: a condition reading address 0 is false
// and counted at every call; a hit condition counts only true hits.
func TestKernelCondFaultAndHitCond(t *testing.T) {
	tg := launchCfg(t, "condloop", proc.LaunchConfig{}, "1000")
	bp := kernelBreak(t, tg, "main.hot", nilDeref())
	continueToExit(t, tg)
	if bp.TotalHitCount != 0 || bp.CondFaults != 1000 {
		t.Fatalf("fault: total %d faults %d", bp.TotalHitCount, bp.CondFaults)
	}

	tg = launchCfg(t, "condloop", proc.LaunchConfig{}, "1000")
	bp = mustBreakFunc(t, tg, "main.hot")
	bp.HitCond = &proc.HitCondition{Op: "==", N: 700}
	kc, err := tg.NewKernelCond(nil, "", fileOffset(tg))
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.SetKernelCond(bp, kc); err != nil {
		t.Fatal(err)
	}
	st, err := tg.Continue()
	if st.Reason != proc.StopBreakpoint {
		t.Fatalf("hit condition: %v, %v; hits %d", st, err, bp.TotalHitCount)
	}
	if r := stoppedRegs(t, tg, st); r.Rax != 699 || bp.TotalHitCount != 700 {
		t.Fatalf("hitcount: rax %d total %d", r.Rax, bp.TotalHitCount)
	}
	// next from the kernel stop: the internal breakpoints work and the
	// instruction the kernel already ran is not run twice.
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.hot", 24)
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.hot", 25)
	continueToExit(t, tg)
	if bp.TotalHitCount != 1000 {
		t.Fatalf("total %d", bp.TotalHitCount)
	}
}

// TestKernelCondDetach: attached to a running program, the kernel's probe
// is in its text (the debugger masks it), and after detach the text is the
// executable's again and the program prints its normal result.
func TestKernelCondDetach(t *testing.T) {
	testenv.RequirePtrace(t)
	testenv.RequireRoot(t)
	path := fixture.Build(t, "condloop", fixture.Flavour{})
	cmd := exec.Command(path, "100000")
	cmd.Env = append(os.Environ(), "CONDLOOP_WAIT=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rd := bufio.NewReader(out)
	if line, err := rd.ReadString('\n'); err != nil || strings.TrimSpace(line) != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("condloop printed %q, %v", line, err)
	}
	tg, err := proc.Attach(native.Backend{}, cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	bp := kernelBreak(t, tg, "main.hot", raxEq(500))
	// The probe is on the prologue's PUSHQ BP (0x55) at the entry, which
	// the kernel emulates.
	fn, err := tg.Symbols().LookupFunc("main.hot")
	if err != nil {
		t.Fatal(err)
	}
	site := fn.Entry
	if got := testproc.Memory(t, cmd.Process.Pid, site, 1)[0]; got != 0xcc {
		t.Fatalf("the uprobe's int3 is not in the text: %#x", got)
	}
	var b [1]byte
	if _, err := tg.Process().ReadMemory(b[:], site); err != nil || b[0] != 0x55 {
		t.Fatalf("masked text: %#x %v", b[0], err)
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.hot", 23)
	if r := stoppedRegs(t, tg, st); r.Rax != 500 || bp.TotalHitCount != 1 {
		t.Fatalf("stop: rax %d hits %d", r.Rax, bp.TotalHitCount)
	}
	if err := tg.Detach(); err != nil {
		t.Fatal(err)
	}
	if got := testproc.Memory(t, cmd.Process.Pid, site, 1)[0]; got != 0x55 {
		t.Fatalf("after detach the text at the site is %#x, want 0x55", got)
	}
	if _, err := io.WriteString(stdin, "done\n"); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil || string(rest) != "sum 14999950000\n" {
		t.Fatalf("after detach: %q, %v", rest, err)
	}
}

// TestKernelCondLine: a line breakpoint in the body has no PUSH before
// it, so the probe is on the breakpoint's own instruction, which the
// kernel steps out of line; the stop is the same.
func TestKernelCondLine(t *testing.T) {
	tg := launchCfg(t, "condloop", proc.LaunchConfig{}, "50")
	bp, err := tg.SetBreakpointLine("condloop/main.go", 24)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := tg.NewKernelCond(func(uint64) (asm.Instructions, error) { return raxEq(7), nil }, testEnd, fileOffset(tg))
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.SetKernelCond(bp, kc); err != nil {
		t.Fatal(err)
	}
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.hot", 24)
	if r := stoppedRegs(t, tg, st); r.Rax != 7 || r.Rip != bp.Addrs[0] || bp.TotalHitCount != 1 {
		t.Fatalf("stop: rax %d pc %#x hits %d", r.Rax, r.Rip, bp.TotalHitCount)
	}
	st, err = tg.Next()
	want(t, "next", st, err, proc.StopStepDone, "main.hot", 25)
	continueToExit(t, tg)
	if bp.TotalHitCount != 1 {
		t.Fatalf("hits %d", bp.TotalHitCount)
	}
}

// TestKernelCondRestart: a restart sets the kernel condition again in the
// new process, its counts from zero.
func TestKernelCondRestart(t *testing.T) {
	tg := launchCfg(t, "condloop", proc.LaunchConfig{}, "1000")
	bp := kernelBreak(t, tg, "main.hot", raxEq(500))
	st, err := tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.hot", 23)
	if err := tg.Restart(); err != nil {
		t.Fatal(err)
	}
	if bp.CondMode != proc.CondKernel || bp.TotalHitCount != 0 {
		t.Fatalf("after restart: mode %v (%s), hits %d", bp.CondMode, bp.CondFallback, bp.TotalHitCount)
	}
	st, err = tg.Continue()
	want(t, "continue", st, err, proc.StopBreakpoint, "main.hot", 23)
	if r := stoppedRegs(t, tg, st); r.Rax != 500 || bp.TotalHitCount != 1 {
		t.Fatalf("stop: rax %d hits %d", r.Rax, bp.TotalHitCount)
	}
	continueToExit(t, tg)
}

// In a container tinydbg knows threads by the container's pids, which the
// BPF programs must use too: with the initial namespace's ids they never
// found a thread's record, and the program ran to its end unstopped.
func TestKernelCondInPidNamespace(t *testing.T) {
	testenv.RunInPidNamespace(t, "TestKernelCondStopsLikeInt3", "TestKernelCondThreads")
}
