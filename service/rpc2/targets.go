package rpc2

import (
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// SetExecutionPointIn is the argument of SetExecutionPoint.
type SetExecutionPointIn struct {
	// Addr is the instruction to run next.
	Addr uint64
}

// SetExecutionPointOut is the state after the PC moved.
type SetExecutionPointOut struct {
	State api.DebuggerState
}

// targetMethods are jump's and follow-exec's methods, with Delve's names.
func targetMethods(d *debugger.Debugger) map[string]handler {
	return map[string]handler{
		"SetExecutionPoint": syncH(func(in SetExecutionPointIn, out *SetExecutionPointOut) error {
			if err := d.SetExecutionPoint(in.Addr); err != nil {
				return err
			}
			st, err := d.State(false)
			if err != nil {
				return err
			}
			out.State = *st
			return nil
		}),
	}
}
