package debugger

import (
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/probe"
	"github.com/tinydbg/tinydbg/service/api"
)

// FunctionReturnLocations returns the run-time addresses of every RET
// instruction of fnName, where a client sets TraceReturn tracepoints, as
// Delve's method of the same name does.
func (d *Debugger) FunctionReturnLocations(fnName string) ([]uint64, error) {
	fn, err := d.bi.LookupFunc(fnName)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", fnName, err)
	}
	sites, err := probe.FindSites(d.bi, fn)
	if err != nil {
		return nil, fmt.Errorf("return locations of %s: %w", fnName, err)
	}
	return append([]uint64(nil), sites.Returns...), nil
}

// fillStopInfo collects, for every thread sitting on a user breakpoint,
// what that breakpoint asked for, and for return tracepoints the results
// as ReturnValues: a client continuing past tracepoints prints every
// thread that hit one, not only the selected thread.
func (d *Debugger) fillStopInfo(t *proc.Target, st *api.DebuggerState) {
	for _, th := range st.Threads {
		if th.Breakpoint == nil {
			continue
		}
		var g *api.Goroutine
		if st.CurrentThread != nil && th.ID == st.CurrentThread.ID {
			g = st.SelectedGoroutine
		}
		d.fillBreakpointInfo(t, th, g)
		if th.Breakpoint.TraceReturn && th.BreakpointInfo != nil {
			for _, v := range th.BreakpointInfo.Arguments {
				if v.Flags&api.VariableReturnArgument != 0 {
					th.ReturnValues = append(th.ReturnValues, v)
				}
			}
		}
	}
}
