package native

import (
	"fmt"
	"unsafe"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"golang.org/x/sys/unix"
)

// Registers reads the thread's general-purpose registers, fs_base and
// gs_base included (Go keeps the g pointer relative to fs_base).
func (t *Thread) Registers() (arch.Registers, error) {
	var regs arch.Registers
	err := t.p.do(func() error {
		raw, err := t.rawRegs()
		if err != nil {
			return err
		}
		regs = fromPtrace(&raw)
		return nil
	})
	return regs, err
}

// SetRegisters writes the thread's general-purpose registers.
func (t *Thread) SetRegisters(regs arch.Registers) error {
	return t.p.do(func() error {
		if err := t.checkStopped(); err != nil {
			return err
		}
		raw := toPtrace(&regs)
		if err := unix.PtraceSetRegs(t.tid, &raw); err != nil {
			return fmt.Errorf("set registers of thread %d: %w", t.tid, err)
		}
		return nil
	})
}

// SetPC moves the thread's instruction pointer; the other registers are
// left as they are.
func (t *Thread) SetPC(pc uint64) error {
	return t.p.do(func() error {
		raw, err := t.rawRegs()
		if err != nil {
			return err
		}
		raw.Rip = pc
		if err := unix.PtraceSetRegs(t.tid, &raw); err != nil {
			return fmt.Errorf("set pc of thread %d: %w", t.tid, err)
		}
		return nil
	})
}

func (t *Thread) rawRegs() (unix.PtraceRegs, error) {
	var raw unix.PtraceRegs
	if err := t.checkStopped(); err != nil {
		return raw, err
	}
	if err := unix.PtraceGetRegs(t.tid, &raw); err != nil {
		if err == unix.ESRCH {
			// Stopped, yet gone: killed while stopped (another thread's
			// exit_group, a SIGKILL); its exit report is still to come.
			return raw, &ThreadExitedError{Tid: t.tid}
		}
		return raw, fmt.Errorf("registers of thread %d: %w", t.tid, err)
	}
	return raw, nil
}

// checkStopped runs on the ptrace thread, where Thread state is owned.
func (t *Thread) checkStopped() error {
	if cur, ok := t.p.Thread(t.tid); !ok || cur != t {
		return &ThreadExitedError{Tid: t.tid}
	}
	if !t.stopped {
		return fmt.Errorf("thread %d: %w", t.tid, ErrThreadRunning)
	}
	return nil
}

func fromPtrace(r *unix.PtraceRegs) arch.Registers {
	return arch.Registers{
		Rax: r.Rax, Rbx: r.Rbx, Rcx: r.Rcx, Rdx: r.Rdx, Rsi: r.Rsi, Rdi: r.Rdi, Rbp: r.Rbp, Rsp: r.Rsp,
		R8: r.R8, R9: r.R9, R10: r.R10, R11: r.R11, R12: r.R12, R13: r.R13, R14: r.R14, R15: r.R15,
		Rip: r.Rip, Eflags: r.Eflags,
		Cs: r.Cs, Ss: r.Ss, Ds: r.Ds, Es: r.Es, Fs: r.Fs, Gs: r.Gs,
		FsBase: r.Fs_base, GsBase: r.Gs_base,
		OrigRax: r.Orig_rax,
	}
}

func toPtrace(r *arch.Registers) unix.PtraceRegs {
	return unix.PtraceRegs{
		Rax: r.Rax, Rbx: r.Rbx, Rcx: r.Rcx, Rdx: r.Rdx, Rsi: r.Rsi, Rdi: r.Rdi, Rbp: r.Rbp, Rsp: r.Rsp,
		R8: r.R8, R9: r.R9, R10: r.R10, R11: r.R11, R12: r.R12, R13: r.R13, R14: r.R14, R15: r.R15,
		Rip: r.Rip, Eflags: r.Eflags,
		Cs: r.Cs, Ss: r.Ss, Ds: r.Ds, Es: r.Es, Fs: r.Fs, Gs: r.Gs,
		Fs_base: r.FsBase, Gs_base: r.GsBase,
		Orig_rax: r.OrigRax,
	}
}

// FPRegisters reads the thread's SSE registers (XMM0–XMM15, MXCSR). It is
// a separate ptrace request so that stops which only need the general
// registers do not pay for the 512-byte FXSAVE image.
func (t *Thread) FPRegisters() (arch.FPRegisters, error) {
	var fp arch.FPRegisters
	err := t.p.do(func() error {
		if err := t.checkStopped(); err != nil {
			return err
		}
		var err error
		fp, err = readFPRegs(t.tid)
		return err
	})
	return fp, err
}

// SetFPRegisters writes the thread's SSE registers; the x87 state is read
// first and written back unchanged.
func (t *Thread) SetFPRegisters(fp arch.FPRegisters) error {
	return t.p.do(func() error {
		if err := t.checkStopped(); err != nil {
			return err
		}
		var img [arch.FxsaveSize]byte
		if err := ptraceFP(unix.PTRACE_GETFPREGS, t.tid, &img); err != nil {
			return fmt.Errorf("fp registers of thread %d: %w", t.tid, err)
		}
		if err := fp.PutFxsave(img[:]); err != nil {
			return err
		}
		if err := ptraceFP(unix.PTRACE_SETFPREGS, t.tid, &img); err != nil {
			return fmt.Errorf("set fp registers of thread %d: %w", t.tid, err)
		}
		return nil
	})
}

// FPRegisters reads the hit thread's SSE registers from inside a
// ProbeHandler, where Thread.FPRegisters would deadlock.
func (h *ProbeHit) FPRegisters() (arch.FPRegisters, error) {
	return readFPRegs(h.Thread.tid)
}

// readFPRegs runs on the ptrace thread with tid stopped.
func readFPRegs(tid int) (arch.FPRegisters, error) {
	var img [arch.FxsaveSize]byte
	if err := ptraceFP(unix.PTRACE_GETFPREGS, tid, &img); err != nil {
		return arch.FPRegisters{}, fmt.Errorf("fp registers of thread %d: %w", tid, err)
	}
	return arch.FPRegistersFromFxsave(img[:])
}

// ptraceFP issues PTRACE_GETFPREGS or PTRACE_SETFPREGS, which x/sys/unix
// has no wrapper for.
func ptraceFP(req int, tid int, img *[arch.FxsaveSize]byte) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), 0, uintptr(unsafe.Pointer(img)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
