package debugger

import (
	"errors"

	"github.com/tinydbg/tinydbg/pkg/proc"
	"github.com/tinydbg/tinydbg/pkg/proc/goroutine"
)

// callPins keeps alive, as Delve does, the heap objects one call
// expression holds only in the debugger between its injected calls: the
// results of the calls inside it and the strings it allocates for
// arguments. Delve makes the runtime.Pinner when the expression needs one
// and unpins it once the expression is done; with a runtime without
// runtime.debugPinnerV1 nothing is pinned, as in Delve.
type callPins struct {
	t     *proc.Target
	goid  int64
	g     *goroutine.G
	d     *Debugger
	p     *proc.Pinner
	unsup bool
}

func (d *Debugger) newCallPins(t *proc.Target, goid int64, g *goroutine.G) *callPins {
	return &callPins{t: t, goid: goid, g: g, d: d, unsup: !t.HasDebugPinner()}
}

// pin pins the objects addrs point into, making the Pinner on first use.
// Addresses in the goroutine's stack are not heap objects and skipped.
func (c *callPins) pin(addrs []uint64) error {
	if c.unsup {
		return nil
	}
	for _, a := range addrs {
		if a == 0 || (a >= c.g.StackLo && a < c.g.StackHi) {
			continue
		}
		if c.p == nil {
			prog, err := c.d.program()
			if err != nil {
				return err
			}
			typ, err := prog.RuntimeTypeAddr("unsafe.Pointer")
			if err != nil {
				return err
			}
			if c.p, err = c.t.NewPinner(c.goid, typ); err != nil {
				return err
			}
		}
		if err := c.p.Pin(a); err != nil {
			return err
		}
	}
	return nil
}

// release unpins everything pinned; the collector may free it from then on.
func (c *callPins) release() error {
	if c == nil || c.p == nil {
		return nil
	}
	p := c.p
	c.p = nil
	return p.Unpin()
}

// releaseWith is release for a path ending with err, both reported. When
// one of the expression's calls is still in progress, no other can be
// made: the pins are released when it returns, at a later stop
// (describeCallStop).
func (c *callPins) releaseWith(err error) error {
	if c.p != nil && c.t.CallInProgress() {
		c.d.call = &callOutcome{pins: c, abandoned: true}
		return err
	}
	return errors.Join(err, c.release())
}
