package debugger

import (
	"fmt"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
)

// goroutineCache holds the goroutines read at the current stop. A client
// asks many questions of one stop (a DAP client: threads, then a stack
// trace and scopes of a parked goroutine, each finding it in the list),
// and reading allgs again for each costs a memory read per goroutine.
// Whatever may change the runtime's goroutines drops it: every resume,
// every write to memory or registers, a new target.
type goroutineCache struct {
	gs    []*goroutine.G
	valid bool
}

// listG returns every goroutine of the target, read once per stop;
// callers hold mu and must not modify the goroutines.
func (d *Debugger) listG(t *proc.Target) ([]*goroutine.G, error) {
	if d.gcache.valid {
		return d.gcache.gs, nil
	}
	d.greads.Add(1)
	gs, err := goroutine.List(d.bi, t.Process())
	if err != nil {
		return nil, fmt.Errorf("listing goroutines: %w", err)
	}
	d.gcache = goroutineCache{gs: gs, valid: true}
	return gs, nil
}

// forgetG drops the goroutines read at this stop; callers hold mu.
func (d *Debugger) forgetG() { d.gcache = goroutineCache{} }

// GoroutineReads is how many times the goroutine list was read from the
// target, for tests and benchmarks that check it is read once per stop.
func (d *Debugger) GoroutineReads() uint64 { return d.greads.Load() }
