package proc

import (
	"errors"
	"fmt"
	"os"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
)

// LaunchConfig says how to start a program under the debugger.
type LaunchConfig struct {
	Dir                   string   // working directory; empty: the debugger's
	Env                   []string // environment; nil: the debugger's
	Stdin, Stdout, Stderr *os.File // nil: the debugger's own
	DisableASLR           bool
}

// nativeProcess adapts *native.Process to Process.
type nativeProcess struct{ *native.Process }

func (p nativeProcess) Threads() []Thread {
	ths := p.Process.Threads()
	out := make([]Thread, len(ths))
	for i, th := range ths {
		out[i] = nativeThread{th}
	}
	return out
}

// nativeThread adapts *native.Thread to Thread, translating the errors
// that say the thread or the whole process ended into the core's.
type nativeThread struct{ *native.Thread }

func (th nativeThread) Registers() (arch.Registers, error) {
	regs, err := th.Thread.Registers()
	return regs, nativeErr(err)
}

// FPRegisters makes nativeThread an FPThread, with the core's errors.
func (th nativeThread) FPRegisters() (arch.FPRegisters, error) {
	fp, err := th.Thread.FPRegisters()
	return fp, nativeErr(err)
}

func (th nativeThread) SetPC(pc uint64) error { return nativeErr(th.Thread.SetPC(pc)) }

func (th nativeThread) StepInstruction() error { return nativeErr(th.Thread.StepInstruction()) }

func nativeErr(err error) error {
	var pe *native.ProcessExitedError
	var te *native.ThreadExitedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe):
		return &ProcessExitedError{ExitCode: pe.ExitCode, Signal: pe.Signal}
	case errors.As(err, &te):
		return fmt.Errorf("%w: %v", ErrThreadExited, err)
	}
	return err
}

func (p nativeProcess) Continue() (StopEvent, error) {
	ev, err := p.Process.Continue()
	if err != nil {
		return StopEvent{}, err
	}
	out := StopEvent{ExitCode: ev.ExitCode, Signal: ev.Signal}
	switch ev.Kind {
	case native.StopTrap:
		out.Kind = StopKindTrap
	case native.StopHalt:
		out.Kind = StopKindHalt
	case native.StopExited:
		out.Kind = StopKindExited
	case native.StopKilled:
		out.Kind = StopKindKilled
	default:
		return StopEvent{}, fmt.Errorf("unknown stop kind %v", ev.Kind)
	}
	for _, th := range ev.Trapped {
		out.Trapped = append(out.Trapped, nativeThread{th})
	}
	return out, nil
}

// Launch starts path with args under ptrace, stopped before its first
// instruction. The binary is opened first, so a missing file or missing
// debug information fails before any process exists.
func Launch(path string, args []string, cfg LaunchConfig) (*Target, error) {
	bi, err := bininfo.Open(path)
	if err != nil {
		return nil, err
	}
	p, err := native.Launch(native.LaunchConfig{
		Path: path, Args: args, Dir: cfg.Dir, Env: cfg.Env,
		Stdin: cfg.Stdin, Stdout: cfg.Stdout, Stderr: cfg.Stderr,
		DisableASLR: cfg.DisableASLR,
	})
	if err != nil {
		bi.Close()
		return nil, fmt.Errorf("launching %s: %w", path, err)
	}
	t, err := newNativeTarget(p, bi)
	if err != nil {
		return nil, err
	}
	t.launched = &launchSpec{path: path, args: append([]string(nil), args...), cfg: cfg}
	return t, nil
}

// Attach takes control of the running process pid, whose executable is
// read from /proc/PID/exe.
func Attach(pid int) (*Target, error) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return nil, fmt.Errorf("attach %d: %w", pid, err)
	}
	bi, err := bininfo.Open(exe)
	if err != nil {
		return nil, fmt.Errorf("attach %d: %w", pid, err)
	}
	p, err := native.Attach(pid)
	if err != nil {
		bi.Close()
		return nil, err
	}
	return newNativeTarget(p, bi)
}

func newNativeTarget(p *native.Process, bi *bininfo.BinaryInfo) (*Target, error) {
	t, err := NewTarget(nativeProcess{p}, NewSymbols(bi), NewRuntime(bi, p))
	if err != nil {
		_ = p.Kill()
		bi.Close()
		return nil, err
	}
	t.closeFn, t.bi = bi.Close, bi
	return t, nil
}
