package native

import (
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// Backend is the ptrace backend as pkg/proc sees it: the service and the
// trace session hand it to proc.Launch and proc.Attach, so that the core
// never imports this package.
type Backend struct{}

// Launch implements proc.Backend.
func (Backend) Launch(path string, args []string, cfg proc.LaunchConfig) (proc.Process, error) {
	p, err := Launch(LaunchConfig{
		Path: path, Args: args, Dir: cfg.Dir, Env: cfg.Env,
		Stdin: cfg.Stdin, Stdout: cfg.Stdout, Stderr: cfg.Stderr,
		DisableASLR: cfg.DisableASLR,
	})
	if err != nil {
		return nil, err
	}
	return coreProcess{p}, nil
}

// Attach implements proc.Backend.
func (Backend) Attach(pid int) (proc.Process, error) {
	p, err := Attach(pid)
	if err != nil {
		return nil, err
	}
	return coreProcess{p}, nil
}

// coreProcess adapts *Process to proc.Process. Embedding keeps the
// native-only methods (RunProbes) promoted, for a consumer that asks for
// them through an interface of its own.
type coreProcess struct{ *Process }

func (p coreProcess) Threads() []proc.Thread {
	ths := p.Process.Threads()
	out := make([]proc.Thread, len(ths))
	for i, th := range ths {
		out[i] = coreThread{th}
	}
	return out
}

// coreThread adapts *Thread to proc.Thread, translating the errors that
// say the thread or the whole process ended into the core's.
type coreThread struct{ *Thread }

func (th coreThread) Registers() (arch.Registers, error) {
	regs, err := th.Thread.Registers()
	return regs, coreErr(err)
}

// FPRegisters makes coreThread a proc.FPThread, with the core's errors.
func (th coreThread) FPRegisters() (arch.FPRegisters, error) {
	fp, err := th.Thread.FPRegisters()
	return fp, coreErr(err)
}

func (th coreThread) SetPC(pc uint64) error { return coreErr(th.Thread.SetPC(pc)) }

func (th coreThread) StepInstruction() error { return coreErr(th.Thread.StepInstruction()) }

func coreErr(err error) error {
	var te *ThreadExitedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return fmt.Errorf("%w: %v", proc.ErrThreadExited, err)
	}
	return err
}

// ReapIfGone lets the core notice a process killed while stopped.
func (p coreProcess) ReapIfGone() (proc.StopEvent, bool) {
	ev, gone := p.Process.ReapIfGone()
	return proc.StopEvent{Kind: ev.Kind, ExitCode: ev.ExitCode, Signal: ev.Signal}, gone
}

func (p coreProcess) Continue() (proc.StopEvent, error) {
	ev, err := p.Process.Continue()
	if err != nil {
		return proc.StopEvent{}, err
	}
	out := proc.StopEvent{Kind: ev.Kind, ExitCode: ev.ExitCode, Signal: ev.Signal, HaltRequested: ev.HaltRequested}
	for _, th := range ev.Trapped {
		out.Trapped = append(out.Trapped, coreThread{th})
	}
	return out, nil
}

// WatchHits makes coreThread a proc.WatchThread.
func (th coreThread) WatchHits() uint8 { return th.Thread.WatchHits() }
