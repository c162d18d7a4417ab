package proc

import (
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc/arch"
)

// The runtime functions a debugger pins heap objects with (Go 1.23 and
// later: runtime/debug.go). An expression making several calls holds the
// results of the earlier ones only in the debugger, where the collector
// cannot see them, so they are pinned until the expression is done.
const (
	debugPinnerFunc = "runtime.debugPinnerV1" // returns a *Pinner that pins itself
	pinnerPinFunc   = "runtime.(*Pinner).Pin"
	pinnerUnpinFunc = "runtime.(*Pinner).Unpin"
)

// HasDebugPinner reports whether the program's runtime offers
// runtime.debugPinnerV1; without it (Go 1.22 and earlier) results of
// calls are not pinned, as in Delve.
func (t *Target) HasDebugPinner() bool {
	_, err := t.sym.LookupFunc(debugPinnerFunc)
	return err == nil
}

// CallRuntime injects a call of the runtime function name on goroutine
// goid with integer arguments, in ABIInternal's integer registers, and
// returns its first integer result (RAX). The call must return: a stop of
// any other kind (a breakpoint hit meanwhile) is an error, the call being
// finished by the next Continue.
func (t *Target) CallRuntime(goid int64, name string, args ...uint64) (uint64, error) {
	fn, err := t.sym.LookupFunc(name)
	if err != nil {
		return 0, fmt.Errorf("function %s not found: %w", name, err)
	}
	var rax uint64
	req := CallRequest{
		Goroutine: goid,
		Entry:     fn.Entry,
		FrameSize: int64(len(args))*8 + arch.MaxRegArgBytes,
		SetArgs: func(regs *arch.Registers, _ *arch.FPRegisters, _ uint64) error {
			for i, a := range args {
				if err := regs.SetIntArg(i, a); err != nil {
					return err
				}
			}
			return nil
		},
		Returned: func(regs *arch.Registers, _ *arch.FPRegisters, _ uint64) error {
			rax = regs.Rax
			return nil
		},
		Panicked: func(uint64) error { return fmt.Errorf("%s panicked", name) },
	}
	stop, err := t.Call(req)
	if err != nil {
		return 0, fmt.Errorf("calling %s: %w", name, err)
	}
	if stop.Reason != StopCallReturned {
		return 0, fmt.Errorf("calling %s: call stopped (%s)", name, stop.Reason)
	}
	if stop.Call != nil && stop.Call.Err != nil {
		return 0, fmt.Errorf("calling %s: %w", name, stop.Call.Err)
	}
	return rax, nil
}

// Pinner is a runtime.Pinner made in the program by runtime.debugPinnerV1,
// pinning heap objects the debugger alone refers to. It pins itself, so
// it lives, and keeps what it pins, until Unpin.
type Pinner struct {
	t    *Target
	goid int64
	addr uint64
	// ptrType is the address of unsafe.Pointer's type descriptor: Pin
	// takes an interface{}, and one of a pointer kind.
	ptrType uint64
	pinned  int
}

// ErrNoDebugPinner is NewPinner's error for a runtime without
// runtime.debugPinnerV1.
var ErrNoDebugPinner = errors.New(debugPinnerFunc + " not found: results of calls are not pinned")

// NewPinner makes a Pinner by an injected call on goroutine goid;
// ptrType is the run-time address of unsafe.Pointer's type descriptor.
func (t *Target) NewPinner(goid int64, ptrType uint64) (*Pinner, error) {
	if !t.HasDebugPinner() {
		return nil, ErrNoDebugPinner
	}
	if ptrType == 0 {
		return nil, errors.New("no type descriptor of unsafe.Pointer: can not pin")
	}
	addr, err := t.CallRuntime(goid, debugPinnerFunc)
	if err != nil {
		return nil, err
	}
	if addr == 0 {
		return nil, errors.New(debugPinnerFunc + " returned nil")
	}
	return &Pinner{t: t, goid: goid, addr: addr, ptrType: ptrType}, nil
}

// Pin pins the object addr points into. Addresses that are not of the
// heap (globals, stacks) are ignored by the runtime.
func (p *Pinner) Pin(addr uint64) error {
	if addr == 0 {
		return nil
	}
	if _, err := p.t.CallRuntime(p.goid, pinnerPinFunc, p.addr, p.ptrType, addr); err != nil {
		return fmt.Errorf("pinning %#x: %w", addr, err)
	}
	p.pinned++
	return nil
}

// Pinned is how many addresses Pin pinned.
func (p *Pinner) Pinned() int { return p.pinned }

// Unpin releases every object the Pinner pinned, itself included: the
// collector may free them from then on.
func (p *Pinner) Unpin() error {
	if _, err := p.t.CallRuntime(p.goid, pinnerUnpinFunc, p.addr); err != nil {
		return fmt.Errorf("unpinning: %w", err)
	}
	return nil
}
