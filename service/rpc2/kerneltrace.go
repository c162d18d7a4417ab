package rpc2

import (
	"github.com/tinydbg/tinydbg/service/api"
	"github.com/tinydbg/tinydbg/service/debugger"
)

// Kernel tracepoints (tinydbg's own methods, which Delve lacks): a client
// syncs the plain tracepoints to the kernel before it resumes the target
// and fetches their hits, while the target runs and at each stop, to
// print them as it prints a tracepoint stop.

// SyncKernelTracepointsIn asks for the tracepoints to be synced.
type SyncKernelTracepointsIn struct{}

// SyncKernelTracepointsOut says, per tracepoint that stops, why.
type SyncKernelTracepointsOut struct {
	Stopping map[int]string
}

// KernelTraceHitsIn asks for the hits so far; with Sync, all those
// recorded before the call.
type KernelTraceHitsIn struct{ Sync bool }

// KernelTraceHitsOut are the hits, as threads stopped on the tracepoint,
// and the number the kernel could not record.
type KernelTraceHitsOut struct {
	Hits []api.Thread
	Lost uint64
}

func kernelTraceMethods(d *debugger.Debugger) map[string]handler {
	return map[string]handler{
		"SyncKernelTracepoints": syncH(func(_ SyncKernelTracepointsIn, out *SyncKernelTracepointsOut) error {
			var err error
			out.Stopping, err = d.SyncKernelTracepoints()
			return err
		}),
		// It never waits for the target: it answers during a continue.
		"KernelTraceHits": syncH(func(in KernelTraceHitsIn, out *KernelTraceHitsOut) error {
			out.Hits, out.Lost = d.KernelTraceHits(in.Sync)
			return nil
		}),
	}
}

// SyncKernelTracepoints moves the plain tracepoints to the kernel and
// says why the others stop.
func (c *Client) SyncKernelTracepoints() (map[int]string, error) {
	var out SyncKernelTracepointsOut
	err := c.call("SyncKernelTracepoints", SyncKernelTracepointsIn{}, &out)
	return out.Stopping, err
}

// KernelTraceHits fetches the kernel tracepoints' hits so far.
func (c *Client) KernelTraceHits(sync bool) ([]api.Thread, uint64, error) {
	var out KernelTraceHitsOut
	err := c.call("KernelTraceHits", KernelTraceHitsIn{Sync: sync}, &out)
	return out.Hits, out.Lost, err
}
