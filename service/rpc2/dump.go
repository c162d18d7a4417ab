package rpc2

import (
	"time"

	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// DumpStartIn is the argument of DumpStart.
type DumpStartIn struct {
	Destination string
}

// DumpStartOut is the dump's state right after it started.
type DumpStartOut struct {
	State api.DumpState
}

// DumpWaitIn says how long DumpWait waits, in milliseconds (0: not at all).
type DumpWaitIn struct {
	Wait int
}

// DumpWaitOut is the dump's state when DumpWait returns.
type DumpWaitOut struct {
	State api.DumpState
}

// DumpCancelIn is the argument of DumpCancel.
type DumpCancelIn struct{}

// DumpCancelOut is the result of DumpCancel.
type DumpCancelOut struct{}

// dumpMethods are Delve's three core dump calls.
func dumpMethods(d *debugger.Debugger) map[string]handler {
	return map[string]handler{
		"DumpStart": syncH(func(in DumpStartIn, out *DumpStartOut) error {
			if err := d.DumpStart(in.Destination); err != nil {
				return err
			}
			out.State = d.DumpWait(0)
			return nil
		}),
		// DumpWait blocks up to Wait ms, so it must not hold up the
		// connection's other requests.
		"DumpWait": asyncH(func(c *callCtx, in DumpWaitIn, out *DumpWaitOut) error {
			c.setup()
			out.State = d.DumpWait(time.Duration(in.Wait) * time.Millisecond)
			return nil
		}),
		"DumpCancel": syncH(func(_ DumpCancelIn, _ *DumpCancelOut) error { return d.DumpCancel() }),
	}
}

// CoreDumpStart starts writing a core of the target to dest.
func (c *Client) CoreDumpStart(dest string) (api.DumpState, error) {
	var out DumpStartOut
	err := c.call("DumpStart", DumpStartIn{Destination: dest}, &out)
	return out.State, err
}

// CoreDumpWait waits up to msec milliseconds for the dump to end.
func (c *Client) CoreDumpWait(msec int) api.DumpState {
	var out DumpWaitOut
	_ = c.call("DumpWait", DumpWaitIn{Wait: msec}, &out)
	return out.State
}

// CoreDumpCancel cancels the dump in progress.
func (c *Client) CoreDumpCancel() error {
	return c.call("DumpCancel", DumpCancelIn{}, &DumpCancelOut{})
}
