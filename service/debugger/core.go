package debugger

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/core"
	"github.com/tinydbg/tinydbg/service/api"
)

// openCore opens a core file of exe through the core backend, with the
// thread that received the fatal signal selected, as Delve does.
func openCore(corePath, exe string) (*proc.Target, error) {
	p, err := core.Open(corePath, exe)
	if err != nil {
		return nil, err
	}
	t, err := proc.Open(p, exe)
	if err != nil {
		return nil, err
	}
	if err := t.SwitchThread(p.CurrentThread()); err != nil {
		_ = t.Kill()
		return nil, err
	}
	return t, nil
}

// IsCore reports whether the target is a core file.
func (d *Debugger) IsCore() bool { return d.cfg.CoreFile != "" }

// Errors of DumpStart, in Delve's words.
var (
	ErrCoreDumpInProgress   = errors.New("core dump in progress")
	ErrCoreDumpNotSupported = errors.New("core dumping not supported")
)

// dumpState is the dump in progress or the last one.
type dumpState struct {
	mu       sync.Mutex
	st       api.DumpState
	canceled bool
	done     chan struct{} // closed when the dump ends
}

// DumpStart starts writing a core of the stopped process to dest. The
// target stays locked until the dump ends, so nothing moves under it.
func (d *Debugger) DumpStart(dest string) error {
	if d.cfg.CoreFile != "" {
		return ErrCoreDumpNotSupported
	}
	t, unlock, err := d.lockAlive()
	if err != nil {
		return err
	}
	d.dump.mu.Lock()
	defer d.dump.mu.Unlock()
	if d.dump.st.Dumping {
		unlock()
		return ErrCoreDumpInProgress
	}
	snap, err := d.snapshot(t)
	if err != nil {
		unlock()
		return fmt.Errorf("dump: %w", err)
	}
	fh, err := os.Create(dest)
	if err != nil {
		unlock()
		return fmt.Errorf("dump: %w", err)
	}
	d.dump.st = api.DumpState{Dumping: true, ThreadsTotal: len(snap.Threads)}
	d.dump.canceled = false
	done := make(chan struct{})
	d.dump.done = done
	go func() {
		defer close(done)
		defer unlock()
		// Not on the ptrace thread: memory is read with process_vm_readv,
		// whose fallback would queue behind a job running there.
		unreadable, err := writeCore(fh, snap, d.dumpProgress)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		d.dump.mu.Lock()
		defer d.dump.mu.Unlock()
		d.dump.st.Dumping = false
		switch {
		case errors.Is(err, core.ErrCanceled):
		case err != nil:
			d.dump.st.Err = err.Error()
		default:
			d.dump.st.AllDone = true
			// Delve reports an incomplete dump as MemDone short of MemTotal.
			d.dump.st.MemDone -= unreadable
		}
	}()
	return nil
}

// writeCore is core.Write with a panic turned into its error, so that a
// bad dump cannot take the debugger down.
func writeCore(fh *os.File, snap core.Snapshot, progress core.Progress) (unreadable uint64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("writing the core: panic: %v", r)
		}
	}()
	return core.Write(fh, snap, progress)
}

// dumpProgress records Write's progress and tells it whether to go on.
func (d *Debugger) dumpProgress(thDone, thTotal int, memDone, memTotal uint64) bool {
	d.dump.mu.Lock()
	defer d.dump.mu.Unlock()
	d.dump.st.ThreadsDone, d.dump.st.ThreadsTotal = thDone, thTotal
	d.dump.st.MemDone, d.dump.st.MemTotal = memDone, memTotal
	return !d.dump.canceled
}

// snapshot collects the threads (the selected one first, so that the core
// opens on it) and the process's mappings; memory is read while writing.
func (d *Debugger) snapshot(t *proc.Target) (core.Snapshot, error) {
	snap, err := core.LiveSnapshot(t.Pid())
	if err != nil {
		return snap, err
	}
	snap.Mem = t.Process()
	var ths []proc.ThreadInfo
	xerr := onTracer(t, func() { ths, err = t.Threads() })
	if err = errors.Join(err, xerr); err != nil {
		return snap, err
	}
	sel := t.SelectedThread()
	for _, th := range ths {
		ts := core.ThreadState{ID: th.ID, Regs: th.Regs}
		if th.LoadFP != nil {
			if fp, err := th.LoadFP(); err == nil {
				ts.FP = &fp
			}
		}
		if th.ID == sel {
			snap.Threads = append([]core.ThreadState{ts}, snap.Threads...)
		} else {
			snap.Threads = append(snap.Threads, ts)
		}
	}
	return snap, nil
}

// DumpWait waits up to wait for the dump to end and returns its state;
// wait 0 returns at once.
func (d *Debugger) DumpWait(wait time.Duration) api.DumpState {
	d.dump.mu.Lock()
	done, dumping := d.dump.done, d.dump.st.Dumping
	d.dump.mu.Unlock()
	if dumping && wait > 0 {
		select {
		case <-done:
		case <-time.After(wait):
		}
	}
	d.dump.mu.Lock()
	defer d.dump.mu.Unlock()
	return d.dump.st
}

// DumpCancel stops a dump in progress; the file is left incomplete.
func (d *Debugger) DumpCancel() error {
	d.dump.mu.Lock()
	defer d.dump.mu.Unlock()
	d.dump.canceled = true
	return nil
}
