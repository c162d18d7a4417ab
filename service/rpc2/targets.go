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
		"ListTargets": syncH(func(_ ListTargetsIn, out *ListTargetsOut) error {
			ts, err := d.ListTargets()
			for _, t := range ts {
				out.Targets = append(out.Targets, Target{Pid: t.Pid, CmdLine: t.CmdLine, CurrentThread: t.CurrentThread})
			}
			return err
		}),
		"FollowExec": syncH(func(in FollowExecIn, _ *FollowExecOut) error {
			return d.FollowExec(in.Enable, in.Regex)
		}),
		"FollowExecEnabled": syncH(func(_ FollowExecEnabledIn, out *FollowExecEnabledOut) error {
			out.Enabled = d.FollowExecEnabled()
			return nil
		}),
	}
}

// Target is one debugged process, as Delve's api.Target.
type Target struct {
	Pid           int
	CmdLine       string
	CurrentThread *api.Thread
}

// ListTargetsIn is the argument of ListTargets.
type ListTargetsIn struct{}

// ListTargetsOut lists the debugged processes.
type ListTargetsOut struct{ Targets []Target }

// FollowExecIn is the argument of FollowExec.
type FollowExecIn struct {
	Enable bool
	Regex  string
}

// FollowExecOut is the result of FollowExec.
type FollowExecOut struct{}
