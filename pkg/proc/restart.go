package proc

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrCannotRestart is wrapped by Restart for a process the debugger did
// not start.
var ErrCannotRestart = errors.New("cannot restart")

// BreakpointsLostError is returned by a Restart that succeeded but could
// not set some user breakpoints again (the binary changed); they are gone.
type BreakpointsLostError struct {
	Lost map[int]error // breakpoint id → why it could not be set
}

func (e *BreakpointsLostError) Error() string {
	ids := make([]int, 0, len(e.Lost))
	for id := range e.Lost {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("breakpoint %d: %v", id, e.Lost[id])
	}
	return "restarted, but some breakpoints could not be set again: " + strings.Join(parts, "; ")
}

// Restart kills the process (if it still runs) and launches the program
// again with the same arguments and configuration, stopped before its
// first instruction. Every user breakpoint is set again, keeping its id,
// conditions and the function or line it was set on; hit counts start from
// zero. A target obtained with Attach cannot be restarted.
func (t *Target) Restart() error {
	if t.launched == nil {
		return fmt.Errorf("%w: process %d was attached, not launched by the debugger; detach and start it again yourself", ErrCannotRestart, t.proc.Pid())
	}
	_ = t.closeKernel() // the old process's probes; each is set again below
	if !t.exited {
		if err := t.proc.Kill(); err != nil {
			return fmt.Errorf("restart: killing process %d: %w", t.proc.Pid(), err)
		}
		t.exited = true
	}
	_ = t.close()
	spec := t.launched
	nt, err := Launch(spec.backend, spec.path, spec.args, spec.cfg)
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	t.adopt(nt)

	lost := map[int]error{}
	for _, bp := range t.Breakpoints() {
		if bp.Watch != nil {
			// Its address belonged to the old process.
			delete(t.user, bp.ID)
			continue
		}
		bp.TotalHitCount = 0
		bp.HitCount = map[int64]uint64{}
		pcs, err := t.resolve(bp.spec)
		if err == nil {
			err = t.place(bp, pcs)
		}
		if err != nil {
			delete(t.user, bp.ID)
			lost[bp.ID] = err
			continue
		}
		if kc := bp.kc; kc != nil {
			// A failure leaves it stop-and-evaluate, its reason shown.
			_ = t.SetKernelCond(bp, *kc)
		}
	}
	if len(lost) > 0 {
		return &BreakpointsLostError{Lost: lost}
	}
	return nil
}

// adopt takes over the process and per-process state of a freshly
// launched target; user breakpoints, ids and the evaluator stay.
func (t *Target) adopt(nt *Target) {
	t.proc, t.sym, t.rt, t.bias = nt.proc, nt.sym, nt.rt, nt.bias
	t.closeFn, t.launched, t.bi = nt.closeFn, nt.launched, nt.bi
	t.bps = nt.bps
	if t.bps.kern == nil {
		t.bps.kern = map[uint64]*kernelAddr{}
	}
	t.userAt = map[uint64]*Breakpoint{}
	t.steps = nil
	t.selThread, t.selG = nt.selThread, nt.selG
	t.threadBP = map[int]*Breakpoint{}
	t.rewound = map[int]uint64{}
	t.watchSlots, t.sentinels = [numWatchSlots]*Breakpoint{}, nil
	t.watchBits, t.watchChange = map[int]uint8{}, map[int]*WatchChange{}
	t.lastStop = Stop{}
	t.exited, t.exitCode = false, 0
}

// resolve finds the addresses of a breakpoint's spec in the current process.
func (t *Target) resolve(s bpSpec) ([]uint64, error) {
	switch {
	case s.fn != "":
		return t.sym.FuncEntryStmts(s.fn)
	case s.file != "":
		return t.sym.LineToPCs(s.file, s.line)
	case len(s.linkAddrs) > 0:
		var pcs []uint64
		for _, link := range s.linkAddrs {
			addr := link + t.bias
			if _, ok := t.sym.PCToFunc(addr); !ok {
				return nil, fmt.Errorf("address %#x is not inside any function", addr)
			}
			pcs = append(pcs, addr)
		}
		return pcs, nil
	case s.linkAddr != 0:
		addr := s.linkAddr + t.bias
		if _, ok := t.sym.PCToFunc(addr); !ok {
			return nil, fmt.Errorf("address %#x is not inside any function", addr)
		}
		return []uint64{addr}, nil
	}
	return nil, errors.New("unknown location")
}
