package ebpf

// Calls and returns are paired in user space by the activation they belong
// to: the goroutine and the distance of SP below the goroutine's stack top
// at the probe. Both probe kinds sit where the frame is not set up (the
// entry) or already torn down (a RET), so a call and its return see the
// same distance, and copying a growing stack preserves it. Stacks grow
// down, so the open calls of a goroutine are ordered by distance: a new
// call at distance d, or a return at d, proves every open call deeper than
// d (and, for a call, at d) is gone without returning — a panic or
// runtime.Goexit unwound it. Those are dropped, so they can never be
// matched by a later return and shift the pairing of every call after.

// openCall is a call whose return has not been seen.
type openCall struct {
	fn       int // index into Tracer.funcs
	stackOff uint64
	timeNs   uint64
	gen      uint32 // the function's drop count when the call was recorded
}

// pairer tracks the open calls of every goroutine. It is used only by the
// reader goroutine.
type pairer struct {
	// open holds each goroutine's open calls, shallowest first. A
	// goroutine's entry stays when its last call returns, so that a
	// goroutine calling a traced function in a loop costs one map lookup
	// per event and no allocation; idle counts such empty entries, swept
	// once they outnumber the busy ones.
	open      map[uint64]*callStack
	idle      int
	abandoned uint64
	// gen is the drop count of the current event's function, set by the
	// reader before it decodes the event: if it changed between a call and
	// a return, events of the function were lost in between, and the call
	// open at the return's position may not be its own.
	gen uint32
}

type callStack struct{ calls []openCall }

func newPairer() *pairer { return &pairer{open: map[uint64]*callStack{}} }

// stack is the goroutine's call stack, made when first needed.
func (p *pairer) stack(goid uint64) *callStack {
	s := p.open[goid]
	if s == nil {
		s = new(callStack)
		p.open[goid] = s
	} else if len(s.calls) == 0 {
		p.idle--
	}
	return s
}

// call records a call and returns its depth: how many calls of the same
// function are still open below it on the goroutine (recursion).
func (p *pairer) call(goid uint64, fn int, stackOff, timeNs uint64) int {
	s := p.stack(goid)
	calls := p.unwind(s, stackOff, true)
	depth := 0
	for _, c := range calls {
		if c.fn == fn {
			depth++
		}
	}
	s.calls = append(calls, openCall{fn: fn, stackOff: stackOff, timeNs: timeNs, gen: p.gen})
	return depth
}

// ret pairs a return with its call. ok is false when the call was not seen
// (the probes were attached during it, or its event was dropped).
func (p *pairer) ret(goid uint64, fn int, stackOff, timeNs uint64) (durationNs uint64, depth int, ok bool) {
	s := p.stack(goid)
	calls := p.unwind(s, stackOff, false)
	n := len(calls)
	if n > 0 && calls[n-1].stackOff == stackOff && calls[n-1].fn == fn {
		c := calls[n-1]
		calls = calls[:n-1]
		for _, o := range calls {
			if o.fn == fn {
				depth++
			}
		}
		if c.gen == p.gen {
			durationNs, ok = timeNs-c.timeNs, true
		}
	}
	s.calls = calls
	if len(calls) == 0 {
		p.idle++
		if p.idle > minSweep && p.idle > len(p.open)/2 {
			p.sweep()
		}
	}
	return durationNs, depth, ok
}

// minSweep is how many goroutines without open calls are kept before they
// are swept: about the goroutines that call traced functions at once.
const minSweep = 1024

// sweep forgets the goroutines that have no open call: most have ended,
// and a server starts a goroutine per connection.
func (p *pairer) sweep() {
	for goid, s := range p.open {
		if len(s.calls) == 0 {
			delete(p.open, goid)
		}
	}
	p.idle = 0
}

// unwind drops the goroutine's open calls that are deeper than stackOff
// (or at it, when inclusive) and returns those that remain.
func (p *pairer) unwind(s *callStack, stackOff uint64, inclusive bool) []openCall {
	calls := s.calls
	n := len(calls)
	for n > 0 && (calls[n-1].stackOff > stackOff || inclusive && calls[n-1].stackOff == stackOff) {
		n--
	}
	p.abandoned += uint64(len(calls) - n)
	return calls[:n]
}

// isOpen reports whether fn's innermost open call on the goroutine is at
// stackOff and has no open call deeper than it.
func (p *pairer) isOpen(goid uint64, fn int, stackOff uint64) bool {
	s := p.open[goid]
	if s == nil {
		return false
	}
	calls := s.calls
	for i := len(calls) - 1; i >= 0 && calls[i].stackOff >= stackOff; i-- {
		if calls[i].stackOff == stackOff && calls[i].fn == fn {
			return true
		}
	}
	return false
}
