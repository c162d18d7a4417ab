// Package debugger is the one facade every front end (JSON-RPC, DAP, the
// REPL through its client) uses to drive a target. It serializes access to
// the process: one operation at a time holds the target, except Halt, which
// must be able to interrupt a running continue from another goroutine.
// Results are expressed in the wire types of service/api.
package debugger

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/bininfo"
	"github.com/tinydbg/tinydbg/pkg/proc/core"
	"github.com/tinydbg/tinydbg/pkg/proc/native"
	"github.com/tinydbg/tinydbg/pkg/proc/stack"
	"github.com/tinydbg/tinydbg/service/api"
)

// Config says what to debug.
type Config struct {
	// Path is the executable to launch (ignored when AttachPid is set).
	Path string
	// Args are argv[1:] of the launched program.
	Args []string
	// WorkingDir is the launched program's working directory.
	WorkingDir string
	// AttachPid, when not zero, attaches to this process instead of launching.
	AttachPid int
	// Stdin, Stdout and Stderr of the launched program; nil: the debugger's own.
	Stdin, Stdout, Stderr *os.File
	// DisableASLR launches the program without address randomization.
	DisableASLR bool
	// Env is the launched program's environment; nil: the debugger's own.
	// Clients pass it here so that several sessions never race on os.Setenv.
	Env []string
	// CoreFile, when set, opens this core file of the executable Path
	// instead of starting a process: read-only, nothing runs.
	CoreFile string
	// Rebuild, set for debug and test sessions, compiles the program again
	// into Path; nil: the binary was not built by tinydbg.
	Rebuild func() error
}

// ErrRunning is returned by operations that need a stopped target while a
// continue or step is in progress.
var ErrRunning = errors.New("target is running")

// Debugger owns one target process.
type Debugger struct {
	// mu serializes every operation on the target; it is held for the
	// whole duration of a continue or step.
	mu sync.Mutex
	// running is set while a command resumes the target (under mu).
	running atomic.Bool
	// tmu guards the target pointer itself, so Halt can reach the target
	// without mu while a Restart swaps it.
	tmu sync.Mutex

	// targetState is everything about the one target; follow-exec swaps
	// it between the Debuggers of a group (group.go) to select a target.
	targetState

	grp *group // the follow-exec group, nil until follow-exec is turned on

	dump dumpState // the core dump in progress or the last one

	greads atomic.Uint64 // goroutine lists read from targets (gcache.go)
}

// targetState is one target and what the debugger knows of it.
type targetState struct {
	cfg    Config
	target *proc.Target

	bi     *bininfo.BinaryInfo // our own view of the binary, same load bias as the target's
	unw    *stack.Unwinder
	vars   *varSupport // lazily built value/expression support
	bps    map[int]*userBreakpoint
	nextBP int

	// pendingRet is the function an interrupted stepout is leaving, kept
	// while the stepout is in progress so that the continue finishing it
	// reports its results.
	pendingRet *api.LoadConfig

	lastStop   proc.Stop
	stopReason string // Delve's name of the last stop reason
	detached   bool
	// cmdline is an attached process's own command line (/proc), which
	// Delve reports for it; a follow-exec child's holds its arguments.
	cmdline string

	call   *callOutcome   // the results of the injected call in progress (fncall.go)
	ktrace *kernelTraces  // tracepoints probed in the kernel (kerneltrace.go); a pointer, as targets are swapped by value
	gcache goroutineCache // the goroutines read at this stop (gcache.go)
}

// New launches or attaches to the target described by cfg, stopped.
func New(cfg Config) (*Debugger, error) {
	d := &Debugger{targetState: targetState{cfg: cfg, bps: map[int]*userBreakpoint{}, nextBP: 1, ktrace: &kernelTraces{}}}
	if err := d.start(); err != nil {
		return nil, err
	}
	if cfg.CoreFile == "" { // a core can hold no breakpoint
		d.installDefaultBreakpoints(d.target)
	}
	return d, nil
}

// start launches or attaches and opens our view of the binary.
func (d *Debugger) start() error {
	var t *proc.Target
	var err error
	switch {
	case d.cfg.CoreFile != "":
		t, err = openCore(d.cfg.CoreFile, d.cfg.Path)
	case d.cfg.AttachPid != 0:
		t, err = proc.Attach(native.Backend{}, d.cfg.AttachPid)
	default:
		t, err = proc.Launch(native.Backend{}, d.cfg.Path, d.cfg.Args, proc.LaunchConfig{
			Dir: d.cfg.WorkingDir, Stdin: d.cfg.Stdin, Stdout: d.cfg.Stdout, Stderr: d.cfg.Stderr,
			DisableASLR: d.cfg.DisableASLR, Env: d.cfg.Env,
		})
	}
	if err != nil {
		return err
	}
	if d.cfg.AttachPid != 0 {
		d.cfg.Path = t.BinInfo().Path()
		d.cmdline = procCmdline(d.cfg.AttachPid)
	}
	// The target opened the binary and applied the load bias; sharing it
	// keeps one symbol index in memory instead of two.
	bi := t.BinInfo()
	d.bi, d.unw, d.vars = bi, stack.New(bi), nil
	d.tmu.Lock()
	d.target = t
	d.tmu.Unlock()
	d.lastStop, d.pendingRet, d.detached = proc.Stop{}, nil, false
	d.forgetG()
	d.stopReason = "launched"
	if d.cfg.AttachPid != 0 || d.cfg.CoreFile != "" {
		d.stopReason = "attached"
	}
	return nil
}

// lock takes the target for one operation and fails if it is gone.
func (d *Debugger) lock() (*proc.Target, func(), error) {
	d.mu.Lock()
	if d.detached {
		d.mu.Unlock()
		return nil, nil, errors.New("detached from the target")
	}
	return d.target, d.mu.Unlock, nil
}

// lockAlive is lock for operations that need a live process.
func (d *Debugger) lockAlive() (*proc.Target, func(), error) {
	t, unlock, err := d.lock()
	if err != nil {
		return nil, nil, err
	}
	if err := d.exitedErr(); err != nil {
		unlock()
		return nil, nil, err
	}
	return t, unlock, nil
}

// exitedErr reports, in Delve's words, that the process has exited.
func (d *Debugger) exitedErr() error {
	// A process killed while stopped is noticed here, so that every
	// command reports its end rather than failing to read it.
	if d.target.NoticeExit() {
		_, code := d.target.Exited()
		return fmt.Errorf("Process %d has exited with status %d", d.target.Pid(), code)
	}
	return nil
}

// IsRunning reports whether a continue or step is in progress.
func (d *Debugger) IsRunning() bool { return d.running.Load() }

// ProcessPid returns the pid of the target.
func (d *Debugger) ProcessPid() int {
	d.tmu.Lock()
	defer d.tmu.Unlock()
	return d.target.Pid()
}

// AttachPid returns the pid attached to, 0 for a launched program.
func (d *Debugger) AttachPid() int { return d.cfg.AttachPid }

// TargetGoVersion returns the Go version the target was built with.
func (d *Debugger) TargetGoVersion() string { return d.bi.GoVersion() }

// LastModified returns the modification time of the executable.
func (d *Debugger) LastModified() time.Time {
	fi, err := os.Stat(d.cfg.Path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// commandLine is the target's command line as Delve shows it.
func (d *Debugger) commandLine() string {
	if d.cmdline != "" {
		return d.cmdline
	}
	return strings.Join(append([]string{d.cfg.Path}, d.cfg.Args...), " ")
}

// Halt interrupts a running continue or step; it does nothing when the
// target is stopped, so a late halt cannot cancel the next continue.
func (d *Debugger) Halt() {
	d.groupHalt()
	d.tmu.Lock()
	defer d.tmu.Unlock()
	if d.running.Load() {
		d.target.Halt()
	}
}

// Detach leaves the target, killing it when kill is set. A running
// target is halted first.
func (d *Debugger) Detach(kill bool) error {
	d.Halt()
	kerr := d.closeKernelTraces()
	d.groupDetach(kill)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.detached {
		return nil
	}
	d.detached = true
	if kill {
		return errors.Join(d.target.Kill(), kerr)
	}
	return errors.Join(d.target.Detach(), kerr)
}

// Restart kills a launched target and starts it again, with newArgs when
// resetArgs is set, and sets the user breakpoints again; those that cannot
// be set are returned.
func (d *Debugger) Restart(resetArgs bool, newArgs []string) ([]api.DiscardedBreakpoint, error) {
	defer d.groupRestart()() // group.go
	if d.cfg.CoreFile != "" {
		return nil, core.ErrContinueCore
	}
	if d.cfg.AttachPid != 0 {
		return nil, errors.New("cannot restart a process tinydbg did not create")
	}
	d.Halt()
	if err := d.releaseKernelTraces(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.detached {
		return nil, errors.New("detached from the target")
	}
	if err := d.target.Kill(); err != nil && !errors.Is(err, proc.ErrProcessExited) {
		return nil, fmt.Errorf("restart: killing the old process: %w", err)
	}
	if resetArgs {
		d.cfg.Args = newArgs
	}
	if err := d.start(); err != nil {
		d.detached = true
		return nil, fmt.Errorf("restart: %w", err)
	}
	discarded := d.reinstallBreakpoints()
	d.installDefaultBreakpoints(d.target)
	return discarded, nil
}
