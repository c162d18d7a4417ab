package loclist_test

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/internal/testenv"
	"github.com/tinydbg/tinydbg/pkg/dwarf/op"
	"github.com/tinydbg/tinydbg/pkg/dwarf/regnum"
)

// stopped is a traced fixture halted at a breakpoint.
type stopped struct {
	pid, tid int
	regs     syscall.PtraceRegs // Rip is the breakpoint address
}

// dwarfRegs numbers the general registers of s as DWARF does; built here
// because this package does not depend on the debugger's register file.
func (s *stopped) dwarfRegs() *op.DwarfRegisters {
	r := &op.DwarfRegisters{}
	for n, v := range map[uint64]uint64{
		regnum.Rax: s.regs.Rax, regnum.Rdx: s.regs.Rdx, regnum.Rcx: s.regs.Rcx, regnum.Rbx: s.regs.Rbx,
		regnum.Rsi: s.regs.Rsi, regnum.Rdi: s.regs.Rdi, regnum.Rbp: s.regs.Rbp, regnum.Rsp: s.regs.Rsp,
		regnum.R8: s.regs.R8, regnum.R9: s.regs.R9, regnum.R10: s.regs.R10, regnum.R11: s.regs.R11,
		regnum.Rip: s.regs.Rip,
	} {
		r.AddReg(n, v)
	}
	return r
}

// ReadMemory reads the stopped process's memory word by word.
func (s *stopped) ReadMemory(buf []byte, addr uint64) (int, error) {
	return syscall.PtracePeekData(s.tid, uintptr(addr), buf)
}

// runToPC starts bin under ptrace (following every thread, since any may
// run the main goroutine), plants an int3 at pc and returns the state of the
// thread that hits it. The process is killed at cleanup.
func runToPC(t *testing.T, bin string, pc uint64) *stopped {
	t.Helper()
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	cmd := exec.Command(bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		// Traced threads must be reaped by us before the leader's exit
		// is reported, so wait for everything until the leader is gone.
		syscall.Kill(pid, syscall.SIGKILL)
		for {
			var ws syscall.WaitStatus
			wpid, err := syscall.Wait4(-1, &ws, syscall.WALL, nil)
			if err != nil || (wpid == pid && (ws.Exited() || ws.Signaled())) {
				break
			}
		}
		cmd.Process.Release()
	})
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		t.Fatalf("waiting for exec stop: %v (%v)", err, ws)
	}
	if err := syscall.PtraceSetOptions(pid, syscall.PTRACE_O_TRACECLONE); err != nil {
		t.Fatal(err)
	}
	word := make([]byte, 1)
	if _, err := syscall.PtracePeekData(pid, uintptr(pc), word); err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.PtracePokeData(pid, uintptr(pc), []byte{0xcc}); err != nil { // int3
		t.Fatal(err)
	}
	tid, sig := pid, 0
	for i := 0; i < 10000; i++ {
		if err := syscall.PtraceCont(tid, sig); err != nil {
			t.Fatalf("cont %d: %v", tid, err)
		}
		var err error
		tid, err = syscall.Wait4(-1, &ws, syscall.WALL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ws.Exited() || ws.Signaled() {
			t.Fatalf("fixture ended (%v) before reaching %#x", ws, pc)
		}
		sig = 0
		switch {
		case ws.StopSignal() == syscall.SIGTRAP && ws.TrapCause() == 0:
			var r syscall.PtraceRegs
			if err := syscall.PtraceGetRegs(tid, &r); err != nil {
				t.Fatal(err)
			}
			if r.Rip-1 != pc {
				t.Fatalf("SIGTRAP at %#x, want breakpoint %#x", r.Rip, pc)
			}
			r.Rip = pc
			return &stopped{pid: pid, tid: tid, regs: r}
		case ws.StopSignal() == syscall.SIGTRAP || ws.StopSignal() == syscall.SIGSTOP:
			// clone event or a new thread's initial stop: keep going
		default:
			sig = int(ws.StopSignal()) // e.g. SIGURG preemption: deliver it
		}
	}
	t.Fatalf("breakpoint %#x never hit", pc)
	return nil
}

// TestLiveArgumentValues stops the optimized fixture at function entries and
// reads the arguments through location list + expression + registers and
// memory, checking the values main passed (no command-line arguments).
func TestLiveArgumentValues(t *testing.T) {
	testenv.RequirePtrace(t)
	for _, tc := range toolchains {
		t.Run(tc.name, func(t *testing.T) {
			bin := fixture.Build(t, "optargs", fixture.Flavour{Optimized: true, Toolchain: tc.toolchain})
			e := openExe(t, bin)
			for _, c := range []struct {
				fn   string
				args map[string]string // argument -> formatted value
			}{
				// addInts(len(os.Args)=1, 5) = 1*3+5-1 = 7
				{"main.addInts", map[string]string{"a": "1", "b": "5"}},
				{"main.strLen", map[string]string{"s": `"hello"`, "extra": "7"}},
			} {
				cu, fn, vars := e.function(t, c.fn)
				pc := fn.Val(dwarf.AttrLowpc).(uint64)
				st := runToPC(t, bin, pc)
				regs := st.dwarfRegs()
				regs.CFA = int64(st.regs.Rsp) + 8 // at entry only the return address is pushed
				regs.FrameBase = regs.CFA
				for name, want := range c.args {
					loc, err := op.Execute(e.location(t, cu, vars[name], pc), regs, st, 8)
					if err != nil {
						t.Fatalf("%s.%s: %v", c.fn, name, err)
					}
					size := 8
					if want[0] == '"' {
						size = 16
					}
					b, err := loc.Bytes(size, regs, st)
					if err != nil {
						t.Fatalf("%s.%s bytes: %v", c.fn, name, err)
					}
					got := fmt.Sprint(int64(binary.LittleEndian.Uint64(b)))
					if size == 16 { // string header: data pointer, length
						str := make([]byte, binary.LittleEndian.Uint64(b[8:]))
						if _, err := st.ReadMemory(str, binary.LittleEndian.Uint64(b)); err != nil {
							t.Fatalf("reading string data: %v", err)
						}
						got = fmt.Sprintf("%q", str)
					}
					if got != want {
						t.Errorf("%s.%s = %s, want %s (location %v)", c.fn, name, got, want, loc)
					}
				}
			}
		})
	}
}
