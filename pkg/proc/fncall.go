package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// The runtime's debug-call protocol (runtime/asm_amd64.s, debugCallV2):
// the debugger pushes the goroutine's PC, writes the argument frame size
// below it and jumps to runtime.debugCallV2, which reports each step by
// executing an int3 with a status in R12.
const (
	callStatusReady     = 0  // frame open at SP: write the arguments, push, jump to the function
	callStatusReturned  = 1  // the function returned: results at SP and in registers
	callStatusPanicked  = 2  // the function panicked: the interface{} value at SP
	callStatusRefused   = 8  // the safe-point check failed: the reason, a string, at SP
	callStatusRestoring = 16 // restore the registers but RIP and RSP, then resume
)

// StopCallReturned is the reason of the stop that ends an injected call
// (Stop.Call says how).
const StopCallReturned = StopWatchScope + 1

// debugCallMinStack is the free stack the runtime asks for before an injection.
const debugCallMinStack = 256

// Errors worded as Delve's, which a user of it recognises.
var (
	ErrCallInProgress         = errors.New("cannot call function while another function call is already in progress")
	ErrCallNoGoroutine        = errors.New("no goroutine selected")
	ErrCallNotRunning         = errors.New("selected goroutine not running")
	ErrCallNotEnoughStack     = errors.New("not enough stack space")
	ErrCallUnsupported        = errors.New("function calls not supported by this version of Go")
	ErrCallUnsupportedBackend = errors.New("backend does not support function calls")
)

// CallRequest is one function call to inject on a goroutine. The callbacks
// run while the process is stopped, on the backend's thread.
type CallRequest struct {
	Goroutine int64  // the goroutine to run the call on; it must be running on a thread
	Entry     uint64 // the function's entry address
	FrameSize int64  // the argument frame (stack arguments and spill space) to open
	Closure   uint64 // the funcval, passed in RDX, when calling a func value
	// SetArgs places the arguments: registers into regs and fp, stack
	// arguments in memory from sp (the callee's CFA).
	SetArgs func(regs *arch.Registers, fp *arch.FPRegisters, sp uint64) error
	// Returned reads the results from regs, fp and memory from sp (the
	// returned function's CFA).
	Returned func(regs *arch.Registers, fp *arch.FPRegisters, sp uint64) error
	// Panicked reads the panic value, an interface{} at addr.
	Panicked func(addr uint64) error
}

// CallDone is the end of an injected call, in a StopCallReturned stop.
type CallDone struct {
	// Err is why the call did not run (the runtime's refusal) or why its
	// results could not be read; the goroutine is restored either way.
	Err error
}

// callRegs is what a backend needs to offer for calls: writing every
// general and SSE register of a stopped thread.
type callRegs interface {
	SetRegisters(arch.Registers) error
	FPRegisters() (arch.FPRegisters, error)
	SetFPRegisters(arch.FPRegisters) error
}

// fnCall is the state of the call in progress.
type fnCall struct {
	req      CallRequest
	tid      int
	saved    arch.Registers
	savedFP  arch.FPRegisters
	dispatch Func // runtime.debugCallV2
	// rewound is the breakpoint the thread was rewound onto, if any: once
	// the goroutine is back there, resuming must step over it, even when a
	// breakpoint hit during the call rewound the thread elsewhere.
	rewound   uint64
	isRewound bool
	err       error
}

// CallInProgress reports whether an injected call has not yet returned (a
// breakpoint elsewhere stopped the program first); Continue finishes it.
func (t *Target) CallInProgress() bool { return t.fncall != nil }

// Call injects a call of req on its goroutine and resumes the program
// until it returns (a StopCallReturned stop) or something else stops the
// program first: a breakpoint, hit by any goroutine, stops as usual, and
// the call is finished by the next Continue, as in Delve.
func (t *Target) Call(req CallRequest) (Stop, error) {
	return t.exclusive(func() (Stop, error) {
		if err := t.startCall(req); err != nil {
			return Stop{}, err
		}
		return t.continueToStop()
	})
}

func (t *Target) startCall(req CallRequest) error {
	if err := t.checkAlive(); err != nil {
		return err
	}
	if t.fncall != nil {
		return ErrCallInProgress
	}
	if req.Goroutine == 0 {
		return ErrCallNoGoroutine
	}
	dispatch, err := t.sym.LookupFunc("runtime.debugCallV2")
	if err != nil {
		return ErrCallUnsupported
	}
	th, err := t.threadOf(req.Goroutine)
	if err != nil {
		return ErrCallNotRunning
	}
	cr, ok := th.(callRegs)
	if !ok {
		return ErrCallUnsupportedBackend
	}
	regs, err := th.Registers()
	if err != nil {
		return fmt.Errorf("thread %d: %w", th.ID(), err)
	}
	fp, err := cr.FPRegisters()
	if err != nil {
		return fmt.Errorf("thread %d: %w", th.ID(), err)
	}
	lo, err := t.stackLo(regs)
	if err != nil {
		return err
	}
	if regs.Rsp-debugCallMinStack <= lo {
		return ErrCallNotEnoughStack
	}
	// Steps 2–5 of the protocol: push the PC, write the frame size at
	// SP-16 and enter debugCallV2 with every other register unchanged.
	sp := regs.Rsp - 8
	if err := t.writeWord(sp, regs.Rip); err != nil {
		return err
	}
	if err := t.writeWord(sp-16, uint64(req.FrameSize)); err != nil {
		return err
	}
	enter := regs
	enter.Rsp, enter.Rip = sp, dispatch.Entry
	if err := cr.SetRegisters(enter); err != nil {
		return fmt.Errorf("starting the call on thread %d: %w", th.ID(), err)
	}
	t.fncall = &fnCall{req: req, tid: th.ID(), saved: regs, savedFP: fp, dispatch: dispatch}
	t.fncall.rewound, t.fncall.isRewound = t.rewound[th.ID()]
	return nil
}

// stackLo reads the low end of the running goroutine's stack: the g
// pointer sits just below fs_base, and stack.lo is g's first word.
func (t *Target) stackLo(regs arch.Registers) (uint64, error) {
	g, err := t.readWord(regs.FsBase - 8)
	if err != nil || g == 0 {
		return 0, fmt.Errorf("reading the goroutine of the thread: %w", errors.Join(err, ErrCallNotRunning))
	}
	return t.readWord(g)
}

func (t *Target) readWord(addr uint64) (uint64, error) {
	var b [8]byte
	if _, err := t.proc.ReadMemory(b[:], addr); err != nil {
		return 0, fmt.Errorf("reading %#x: %w", addr, err)
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

func (t *Target) writeWord(addr, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	if _, err := t.proc.WriteMemory(addr, b[:]); err != nil {
		return fmt.Errorf("writing %#x: %w", addr, err)
	}
	return nil
}

// callTrap takes the call thread out of trapped when it stopped on one of
// the protocol's int3s and performs that step. done is the thread, when
// the protocol finished and the goroutine is back where it was.
func (t *Target) callTrap(trapped []Thread) (rest []Thread, done Thread, err error) {
	c := t.fncall
	if c == nil {
		return trapped, nil, nil
	}
	for i, th := range trapped {
		if th.ID() != c.tid {
			continue
		}
		regs, err := th.Registers()
		if err != nil {
			return trapped, nil, fmt.Errorf("thread %d: %w", th.ID(), err)
		}
		if !t.isCallTrap(regs.Rip) {
			return trapped, nil, nil
		}
		rest = append(append([]Thread{}, trapped[:i]...), trapped[i+1:]...)
		fin, err := t.callStep(th, regs)
		if err != nil {
			t.fncall = nil
			return rest, nil, err
		}
		if fin {
			return rest, th, nil
		}
		return rest, nil, nil
	}
	return trapped, nil, nil
}

// isCallTrap reports whether pc follows an int3 of the runtime's
// debugCall functions (written in their code, not by us).
func (t *Target) isCallTrap(pc uint64) bool {
	if t.bps.phys[pc-1] != nil {
		return false
	}
	fn, ok := t.sym.PCToFunc(pc - 1)
	// debugCall32 and its siblings are static assembly symbols, named
	// without their package.
	if !ok || !strings.HasPrefix(strings.TrimPrefix(fn.Name, "runtime."), "debugCall") {
		return false
	}
	var b [1]byte
	_, err := t.proc.ReadMemory(b[:], pc-1)
	return err == nil && b[0] == arch.BreakpointInstr[0]
}

// callStep performs the protocol step R12 asks for; fin is set once the
// goroutine's registers are restored.
func (t *Target) callStep(th Thread, regs arch.Registers) (fin bool, err error) {
	c := t.fncall
	cr := th.(callRegs)
	switch regs.R12 {
	case callStatusRefused:
		ptr, err1 := t.readWord(regs.Rsp)
		n, err2 := t.readWord(regs.Rsp + 8)
		if err := errors.Join(err1, err2); err != nil || n > 1<<12 {
			c.err = fmt.Errorf("could not get precheck error reason: %w", errors.Join(err, errors.New("bad string")))
			return false, nil
		}
		msg := make([]byte, n)
		if _, err := t.proc.ReadMemory(msg, ptr); err != nil {
			c.err = fmt.Errorf("could not get precheck error reason: %w", err)
			return false, nil
		}
		c.err = errors.New(string(msg))
	case callStatusReady:
		fp, err := cr.FPRegisters()
		if err != nil {
			return false, err
		}
		if err := c.req.SetArgs(&regs, &fp, regs.Rsp); err != nil {
			// Nothing ran yet; the frame is abandoned by returning
			// straight to the trap of status 1 with an error recorded.
			c.err = err
			return false, nil
		}
		// A call instruction: push the return address (the trap that
		// reports status 1) and jump.
		ret := regs.Rip
		regs.Rsp -= 8
		if err := t.writeWord(regs.Rsp, ret); err != nil {
			return false, err
		}
		regs.Rip = c.req.Entry
		if c.req.Closure != 0 {
			regs.Rdx = c.req.Closure
		}
		if err := cr.SetFPRegisters(fp); err != nil {
			return false, fmt.Errorf("setting arguments: %w", err)
		}
		if err := cr.SetRegisters(regs); err != nil {
			return false, fmt.Errorf("setting arguments: %w", err)
		}
	case callStatusReturned:
		if c.err != nil {
			return false, nil
		}
		fp, err := cr.FPRegisters()
		if err != nil {
			return false, err
		}
		if err := c.req.Returned(&regs, &fp, regs.Rsp); err != nil {
			c.err = fmt.Errorf("could not get return values: %w", err)
		}
	case callStatusPanicked:
		if err := c.req.Panicked(regs.Rsp); err != nil {
			c.err = fmt.Errorf("could not get panic: %w", err)
		}
	case callStatusRestoring:
		return true, t.finishCall(th, regs)
	}
	return false, nil
}

// finishCall restores the goroutine: every register as saved, except RIP
// and RSP, which the tail of debugCallV2 brings back (the stack may have
// moved during the call) by returning to the pushed PC. That tail changes
// RFLAGS, so the saved flags are written once more after it.
func (t *Target) finishCall(th Thread, regs arch.Registers) error {
	c := t.fncall
	t.fncall = nil
	cr := th.(callRegs)
	r := c.saved
	r.Rip, r.Rsp = regs.Rip, regs.Rsp
	if err := cr.SetRegisters(r); err != nil {
		return fmt.Errorf("could not restore registers: %w", err)
	}
	if err := cr.SetFPRegisters(c.savedFP); err != nil {
		return fmt.Errorf("could not restore registers: %w", err)
	}
	for i := 0; ; i++ {
		cur, err := th.Registers()
		if err != nil {
			return fmt.Errorf("could not step out of %s: %w", c.dispatch.Name, err)
		}
		if cur.Rip < c.dispatch.Entry || cur.Rip >= c.dispatch.End {
			cur.Eflags = c.saved.Eflags
			if err := cr.SetRegisters(cur); err != nil {
				return fmt.Errorf("could not restore RFLAGS register: %w", err)
			}
			break
		}
		if i == 64 {
			return fmt.Errorf("could not step out of %s: still inside after %d instructions", c.dispatch.Name, i)
		}
		if err := th.StepInstruction(); err != nil {
			return fmt.Errorf("could not step out of %s: %w", c.dispatch.Name, err)
		}
	}
	delete(t.rewound, th.ID())
	if c.isRewound {
		t.rewound[th.ID()] = c.rewound
	}
	t.callErr = c.err
	return nil
}
